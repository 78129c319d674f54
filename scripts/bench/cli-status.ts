/**
 * `node scripts/bench/cli-status.ts [--rounds N] [--helm 3|4] [--keep]`: how long `mmoctl status`
 * takes next to `helm status` alone on the same release, in the same run. Target: ratio ≤ 1.5.
 *
 * On this checkout's rig (started if needed), installs the production preset into a fresh namespace
 * (two stable game servers, HPA, PDB, LoadBalancer, UDP node port, bundled data services; monitoring
 * off, since the rig has no prometheus-operator kinds), then runs, alternating within each round so
 * load changes hit both alike: `helm status`, `helm status --show-resources` (helm's nearest
 * equivalent), `mmoctl status -o json` (which also reports its own collect time), and `mmoctl status
 * --no-such-flag` (the CLI's start-up floor: Node.js, oclif, the command modules). Prints a Markdown
 * table for docs/benchmarks.md. `benchStatusVsHelm` is the measurement alone, for other benchmarks.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ensureHelm, PROJECT_ROOT, type HelmMajor } from '../setup/helm.ts';
import { up } from '../rig/rig.ts';

const run = promisify(execFile);

export interface StatusBenchOptions {
  readonly kubeconfig: string;
  /** helm binary. */
  readonly helm: string;
  readonly namespace: string;
  readonly release: string;
  readonly rounds: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface StatusBenchResult {
  /** Wall-clock milliseconds of each run, by measure. */
  readonly ms: Record<'helmStatus' | 'helmStatusResources' | 'mmoctlStatus' | 'mmoctlStartup' | 'mmoctlCollect', number[]>;
  /** median(mmoctl status) / median(helm status). */
  readonly ratio: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs each measure once per round, alternating, and returns every time. */
export async function benchStatusVsHelm(o: StatusBenchOptions): Promise<StatusBenchResult> {
  const env = { ...process.env, KUBECONFIG: o.kubeconfig, MMOCTL_HELM: o.helm, NO_COLOR: '1' };
  const time = async (file: string, args: string[], okCodes = [0]): Promise<{ ms: number; stdout: string }> => {
    const t0 = performance.now();
    try {
      const { stdout } = await run(file, args, { env, maxBuffer: 64 * 1024 * 1024 });
      return { ms: performance.now() - t0, stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      if (typeof e.code === 'number' && okCodes.includes(e.code)) return { ms: performance.now() - t0, stdout: e.stdout ?? '' };
      throw new Error(`${file} ${args.join(' ')} failed (${e.code}): ${e.stderr ?? ''}`, { cause: err });
    }
  };
  const bin = join(PROJECT_ROOT, 'bin', 'mmoctl.js');
  const ref = ['-n', o.namespace];
  const ms: StatusBenchResult['ms'] = { helmStatus: [], helmStatusResources: [], mmoctlStatus: [], mmoctlStartup: [], mmoctlCollect: [] };
  // One unmeasured round: the compile cache and the page cache are warm for every measured one.
  await time(o.helm, ['status', o.release, ...ref]);
  await time(process.execPath, [bin, 'status', '--release', o.release, ...ref, '-o', 'json'], [0, 3]);
  for (let r = 1; r <= o.rounds; r++) {
    ms.helmStatus.push((await time(o.helm, ['status', o.release, ...ref])).ms);
    const status = await time(process.execPath, [bin, 'status', '--release', o.release, ...ref, '-o', 'json'], [0, 3]);
    ms.mmoctlStatus.push(status.ms);
    ms.mmoctlCollect.push((JSON.parse(status.stdout) as { durationMs: number }).durationMs);
    ms.helmStatusResources.push((await time(o.helm, ['status', o.release, ...ref, '--show-resources'])).ms);
    ms.mmoctlStartup.push((await time(process.execPath, [bin, 'status', '--no-such-flag'], [2])).ms);
    o.log?.(`round ${r}: helm status ${ms.helmStatus.at(-1)!.toFixed(0)} ms, mmoctl status ${ms.mmoctlStatus.at(-1)!.toFixed(0)} ms`);
  }
  return { ms, ratio: median(ms.mmoctlStatus) / median(ms.helmStatus) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, helm: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false } } });
  const rounds = Number(values.rounds);
  const major = Number(values.helm) as HelmMajor;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100 || (major !== 3 && major !== 4)) {
    console.error('usage: node scripts/bench/cli-status.ts [--rounds 1..100] [--helm 3|4] [--keep]');
    process.exit(2);
  }
  const log = (l: string) => console.error(l);
  const helm = await ensureHelm(major);
  await run('npm', ['run', '--silent', 'build:cli'], { cwd: PROJECT_ROOT });
  const rig = await up({ log });
  const env = { ...process.env, KUBECONFIG: rig.kubeconfig };
  const namespace = `bench-status-${randomBytes(3).toString('hex')}`;
  const release = 'game';
  await run('kubectl', ['create', 'namespace', namespace], { env }).catch(async () => {
    // No kubectl: helm creates it.
  });
  log(`installing the production preset into ${namespace}…`);
  const nodePort = 30_100 + Math.floor(Math.random() * 2600);
  await run(helm, [
    'install', release, join(PROJECT_ROOT, 'charts', 'mmo'), '-n', namespace, '--create-namespace', '-f', join(PROJECT_ROOT, 'values', 'production.yaml'),
    '--set', 'gameServer.autoscaling.minReplicas=2', '--set', `udp.nodePort=${nodePort}`,
    '--set', 'monitoring.serviceMonitor.enabled=false', '--set', 'monitoring.prometheusRule.enabled=false',
    '--wait', '--timeout', '120s',
  ], { env });
  try {
    const res = await benchStatusVsHelm({ kubeconfig: rig.kubeconfig, helm, namespace, release, rounds, log });
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const helmVersion = (await run(helm, ['version', '--template', '{{.Version}}'])).stdout.trim();
    console.log(`rounds: ${rounds}; helm ${helmVersion}; Node.js ${process.version}; load average at the end: ${load}\n`);
    console.log('| measure | min | median | max |');
    console.log('|---|---:|---:|---:|');
    const row = (name: string, xs: number[]) => console.log(`| ${name} | ${Math.min(...xs).toFixed(0)} ms | ${median(xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`);
    row('`helm status`', res.ms.helmStatus);
    row('`helm status --show-resources`', res.ms.helmStatusResources);
    row('`mmoctl status -o json` (whole command)', res.ms.mmoctlStatus);
    row('… of which collecting (its `durationMs`)', res.ms.mmoctlCollect);
    row('`mmoctl status --no-such-flag` (start-up floor)', res.ms.mmoctlStartup);
    console.log(`\nratio mmoctl status / helm status (medians): ${res.ratio.toFixed(1)} (target ≤ 1.5); / helm status --show-resources: ${(median(res.ms.mmoctlStatus) / median(res.ms.helmStatusResources)).toFixed(1)}`);
  } finally {
    if (!values.keep) {
      await run(helm, ['uninstall', release, '-n', namespace, '--wait', '--timeout', '60s'], { env }).catch(() => {});
      await run('kubectl', ['delete', 'namespace', namespace, '--wait=false'], { env }).catch(() => {});
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
