/**
 * `npm run bench:live [-- --rounds N --pods N]` (root): what a game server pod costs on the live rig.
 * Each round installs the chart (helm 3, dev preset, external data services, N game servers labelled
 * mmo.dev/rig-run=process) into a namespace of its own, records for each pod the time from its
 * creation to Ready as the API server reports it (polled every 100 ms), then, after 10 s idle, the
 * resident memory of each game server process (everything in its network namespace) and of the live
 * rig's own components, and uninstalls. Uses this checkout's live rig and services (started if
 * needed, left running). Prints a Markdown table for docs/benchmarks.md. It lives beside the live
 * suite because it installs releases with the same helpers.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { clients, helm } from '../cluster/kube.ts';
import { ensureMonitoringCrds, podSecurityNamespace } from '../cluster/mmo-chart.ts';
import { liveValues, serviceSecrets, valuesFile } from './live-release.ts';
import { CHART_DIR, PRESETS_DIR } from '../support/chart.ts';
import { status, up } from '../../scripts/rig/rig.ts';
import { Services } from '../../scripts/services/services.ts';
import { ensureHelm } from '../../scripts/setup/helm.ts';

const exec = promisify(execFile);
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, pods: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const pods = Number(values.pods);
for (const [flag, v, max] of [['rounds', rounds, 20], ['pods', pods, 20]] as const) {
  if (!Number.isInteger(v) || v < 1 || v > max) {
    console.error(`--${flag}: expected an integer from 1 to ${max}, got ${JSON.stringify(values[flag])}`);
    process.exit(2);
  }
}

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (l: string) => console.error(l);

await new Services().up();
const rig = await up({ live: true, log });
const live = rig.live!;
const admin = clients(rig.kubeconfig);
const helm3 = await ensureHelm(3);
await ensureMonitoringCrds(admin);

const readyMs: number[] = [];
const serverMiB: number[] = [];
const rigMiB: Record<string, number[]> = {};
for (let round = 1; round <= rounds; round++) {
  const ns = `bench-live-${Date.now().toString(36)}`;
  await podSecurityNamespace(admin, ns, 'restricted');
  await serviceSecrets(admin, ns, live);
  const file = valuesFile(ns, liveValues(live, { replicas: pods }));
  const t0 = Date.now();
  const install = helm(helm3, rig.kubeconfig, ['install', 'game', CHART_DIR, '-n', ns, '-f', join(PRESETS_DIR, 'dev.yaml'), '-f', file, '--timeout', '150s']);
  const seenReady = new Map<string, number>();
  while (seenReady.size < pods && Date.now() - t0 < 180_000) {
    for (const p of (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=game-server' })).items) {
      if (seenReady.has(p.metadata!.uid!) || !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      seenReady.set(p.metadata!.uid!, Date.now() - p.metadata!.creationTimestamp!.getTime());
    }
    await sleep(100);
  }
  if ((await install).code !== 0 || seenReady.size < pods) throw new Error(`round ${round}: ${seenReady.size}/${pods} pods became ready`);
  readyMs.push(...seenReady.values());
  await sleep(10_000);
  for (const uid of seenReady.keys()) {
    const pids = (await exec('ip', ['netns', 'pids', `mmo-r${live.slot}-${uid}`])).stdout.split('\n').map(Number).filter((p) => p > 0);
    serverMiB.push(pids.reduce((a, p) => a + rssKiB(p), 0) / 1024);
  }
  for (const c of (await status({ live: true })).components) (rigMiB[c.name] ??= []).push(c.rssKiB / 1024);
  log(`round ${round}: ready after ${[...seenReady.values()].map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`);
  await helm(helm3, rig.kubeconfig, ['uninstall', 'game', '-n', ns, '--wait', '--timeout', '60s']);
  await admin.core.deleteNamespace({ name: ns });
}

const row = (what: string, xs: number[], unit: string, digits = 0) =>
  `| ${what} | ${Math.min(...xs).toFixed(digits)} ${unit} | ${median(xs).toFixed(digits)} ${unit} | ${Math.max(...xs).toFixed(digits)} ${unit} |`;
console.log(`${rounds} rounds × ${pods} game server pods; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
console.log('| measure | min | median | max |\n|---|---:|---:|---:|');
console.log(row('pod created → Ready', readyMs.map((ms) => ms / 1000), 's', 1));
console.log(row('resident memory: one game server pod (its processes)', serverMiB, 'MiB'));
for (const [name, xs] of Object.entries(rigMiB).sort((a, b) => median(b[1]) - median(a[1]))) console.log(row(`resident memory: ${name}`, xs, 'MiB'));
