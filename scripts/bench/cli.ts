/**
 * `npm run bench:cli [-- --rounds N]`: what mmoctl costs its users, measured with the compiled CLI
 * as they run it (node bin/mmoctl.js). Targets (docs/benchmarks.md): start-up (`mmoctl version`, no
 * cluster) p50 < 250 ms; `mmoctl preflight` on the rig < 3 s; the production preset installed end to
 * end; `mmoctl status` against `helm status` on the same release, in the same run (ratio ≤ 1.5).
 *
 * Runs against a rig of its own (.tmp/bench-cli-rig), so this checkout's rig is left alone. Prints a
 * Markdown table.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { down, up } from '../rig/rig.ts';
import { ensureHelm } from '../setup/helm.ts';
import { benchStatusVsHelm } from './cli-status.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, 'keep-rig': { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
  console.error(`--rounds: expected an integer from 1 to 100, got ${JSON.stringify(values.rounds)}`);
  process.exit(2);
}

const MMOCTL = join(PROJECT_ROOT, 'bin', 'mmoctl.js');
const stateDir = join(PROJECT_ROOT, '.tmp', 'bench-cli-rig');

interface Run {
  code: number;
  ms: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const t0 = performance.now();
  return new Promise((res) => {
    execFile(file, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 }, (err, stdout, stderr) =>
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, ms: performance.now() - t0, stdout, stderr }),
    );
  });
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const ms = (x: number) => `${Math.round(x)} ms`;

async function timed(what: string, n: number, fn: () => Promise<Run>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fn();
    if (r.code !== 0 && r.code !== 4) throw new Error(`${what} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    out.push(r.ms);
  }
  console.error(`${what}: p50 ${ms(quantile(out, 0.5))}`);
  return out;
}

const helm = await ensureHelm(3);
const home = await mkdtemp(join(tmpdir(), 'mmoctl-bench-'));
const bare = { HOME: home, KUBECONFIG: undefined, MMOCTL_HELM: helm, NO_COLOR: '1', HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
const node = process.execPath;
const rows: [string, string, string][] = [];
try {
  const version = await timed('mmoctl version (no cluster)', rounds, () => run(node, [MMOCTL, 'version'], bare));
  const help = await timed('mmoctl --help', rounds, () => run(node, [MMOCTL, '--help'], bare));
  const bareNode = await timed('node -e 0 (the floor)', rounds, () => run(node, ['-e', '0'], bare));
  rows.push(['`mmoctl version`, no cluster configured', `p50 ${ms(quantile(version, 0.5))}, p90 ${ms(quantile(version, 0.9))}`, `< 250 ms; \`node -e 0\` alone: p50 ${ms(quantile(bareNode, 0.5))}`]);
  rows.push(['`mmoctl --help`', `p50 ${ms(quantile(help, 0.5))}`, '']);

  const rig = await up({ stateDir, log: (l) => console.error(l) });
  const env = { ...bare, KUBECONFIG: rig.kubeconfig };
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(rig.kubeconfig);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const mkns = async (name: string) => {
    await core.createNamespace({ body: { metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } }).catch(() => {});
    return name;
  };
  const devNs = await mkns('bench-dev');
  const pfDev = await timed('mmoctl preflight --profile dev', rounds, () => run(node, [MMOCTL, 'preflight', '--profile', 'dev', '-n', devNs], env));
  const prodArgs = ['--profile', 'production', '--set', 'gameServer.autoscaling.minReplicas=2', '--set', 'monitoring.serviceMonitor.enabled=false', '--set', 'monitoring.prometheusRule.enabled=false', '--set', 'monitoring.dashboard.enabled=false'];
  const prodNs = 'bench-prod';
  const pfProd = await timed('mmoctl preflight --profile production', rounds, () => run(node, [MMOCTL, 'preflight', ...prodArgs, '-n', prodNs, '--create-namespace'], env));
  rows.push(['`mmoctl preflight` on the rig, dev preset, existing namespace', `p50 ${ms(quantile(pfDev, 0.5))}, p90 ${ms(quantile(pfDev, 0.9))}`, '< 3 s']);
  rows.push(['`mmoctl preflight` on the rig, production preset, namespace to create', `p50 ${ms(quantile(pfProd, 0.5))}, p90 ${ms(quantile(pfProd, 0.9))}`, '< 3 s']);

  const install = await run(node, [MMOCTL, 'install', ...prodArgs, '-n', prodNs, '--create-namespace', '-o', 'json'], env);
  if (install.code !== 0) throw new Error(`install failed:\n${install.stdout}${install.stderr}`);
  const steps = (JSON.parse(install.stdout) as { steps: { title: string; durationMs: number }[] }).steps;
  rows.push(['`mmoctl install` of the production preset, end to end (values, preflight, namespace, plan, helm --wait, verify with helm test, endpoints)', ms(install.ms), steps.map((s) => `${s.title.split(':')[0]} ${(s.durationMs / 1000).toFixed(1)} s`).join('; ')]);
  const again = await run(node, [MMOCTL, 'install', ...prodArgs, '-n', prodNs], env);
  rows.push(['`mmoctl install` again with the same input (no change)', ms(again.ms), again.code === 0 ? 'unchanged' : `exit ${again.code}`]);

  const s = await benchStatusVsHelm({ kubeconfig: rig.kubeconfig, helm, namespace: prodNs, release: 'mmo', rounds, env, log: (l) => console.error(l) });
  const p50 = (xs: number[]) => quantile(xs, 0.5);
  rows.push(['`mmoctl status` vs `helm status`, production release, same run', `p50 ${ms(p50(s.mmoctlStatus))} vs ${ms(p50(s.helmStatus))}: ratio ${(p50(s.mmoctlStatus) / p50(s.helmStatus)).toFixed(2)}`, '≤ 1.5']);
  rows.push(['… of which reading the cluster and helm (`durationMs` of the report)', `p50 ${ms(p50(s.mmoctlCollect))}`, '']);
  rows.push(['… the start-up floor (`mmoctl status --no-such-flag`: Node.js, oclif, the commands)', `p50 ${ms(p50(s.mmoctlStartup))}`, '']);
  if (s.helmStatusResources.length) rows.push(['`helm status --show-resources` (helm\'s nearest equivalent of status)', `p50 ${ms(p50(s.helmStatusResources))}: mmoctl status / it ${(p50(s.mmoctlStatus) / p50(s.helmStatusResources)).toFixed(2)}`, '']);
} finally {
  if (!values['keep-rig']) await down({ stateDir });
  await rm(home, { recursive: true, force: true });
}

console.log('| what | result | target / notes |');
console.log('|---|---|---|');
for (const [what, result, notes] of rows) console.log(`| ${what} | ${result} | ${notes} |`);
