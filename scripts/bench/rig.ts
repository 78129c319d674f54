/**
 * `npm run bench:rig [-- --rounds N]`: how fast the Kubernetes rig starts from cached binaries, and
 * what it costs while it runs. Target: warm `up` < 30 s.
 *
 * Each round starts a rig in its own state directory (.tmp/bench-rig, so this checkout's rig is left
 * alone), records the time until `up` returns (readyz ok, 3 nodes Ready, default ServiceAccount),
 * then after 10 s of idling the resident memory of each component, and stops it. The last round
 * also measures idle CPU over 20 s. Prints a Markdown table for docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../lib/root.ts';
import { ensureRigBinaries } from '../rig/build.ts';
import { down, status, up } from '../rig/rig.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
  console.error(`--rounds: expected an integer from 1 to 50, got ${JSON.stringify(values.rounds)}`);
  process.exit(2);
}

const stateDir = join(PROJECT_ROOT, '.tmp', 'bench-rig');
const opts = { stateDir };

function cpuTicks(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += Number(f[11]) + Number(f[12]); // utime + stime
  }
  return total;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

await ensureRigBinaries({ log: (l) => console.error(l) });
await down(opts);
const upMs: number[] = [];
const rss: Record<string, number[]> = {};
let idleCpuPercent = 0;
try {
  for (let r = 1; r <= rounds; r++) {
    const info = await up(opts);
    upMs.push(info.upMs);
    await sleep(10_000);
    const st = await status(opts);
    for (const c of st.components) (rss[c.name] ??= []).push(c.rssKiB / 1024);
    (rss.total ??= []).push(st.totalRssKiB / 1024);
    if (r === rounds) {
      const pids = st.components.map((c) => c.pid);
      const a = cpuTicks(pids);
      await sleep(20_000);
      idleCpuPercent = ((cpuTicks(pids) - a) / 100 / 20) * 100; // USER_HZ is 100 on Linux
    }
    await down(opts);
    console.error(`round ${r}: up ${(info.upMs / 1000).toFixed(1)} s, ${(st.totalRssKiB / 1024).toFixed(0)} MiB`);
  }
} finally {
  await down(opts);
}

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`rounds: ${rounds}; load average at the end: ${load}; state dir: ${join('.tmp', 'bench-rig')}\n`);
console.log('| measure | min | median | max |');
console.log('|---|---:|---:|---:|');
const row = (name: string, xs: number[], unit: string, digits: number) =>
  console.log(`| ${name} | ${Math.min(...xs).toFixed(digits)} ${unit} | ${quantile(xs, 0.5).toFixed(digits)} ${unit} | ${Math.max(...xs).toFixed(digits)} ${unit} |`);
row('`up` until ready', upMs.map((m) => m / 1000), 's', 1);
for (const [name, xs] of Object.entries(rss)) row(`resident memory: ${name}`, xs, 'MiB', 0);
console.log(`| idle CPU (20 s, last round) | | ${idleCpuPercent.toFixed(1)} % of one core | |`);
