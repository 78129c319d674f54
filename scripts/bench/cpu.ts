/**
 * `npm run bench:cpu` — CPU per player: the server's and the load generator's, at fixed loads, for
 * each send profile, side by side with another checkout's server (the previous version) in one run.
 *
 * CPU per player is what decides how many players a core holds, and unlike a CCU ladder it can be
 * measured well below saturation, where the generator is not the limit. On a shared machine single
 * numbers drift with the other load, so the versions alternate within each round (A B C, then
 * C B A) and the summary gives medians and ratios against the baseline.
 *
 *   npm run bench:cpu -- --base ../main-checkout [--levels 500,1000] [--transport ws|udp|both]
 *                        [--variants base:action,head:action,head:mmo] [--mmo-rate 10] [--rounds 2]
 *                        [--duration 20] [--server-cpu 0] [--gen-cpu 1] [--workers 1]
 *                        [--quiet 35] [--quiet-wait 120] [--contended 20] [--retries 1]
 *
 * A variant is `<checkout>:<profile>[@<patch rate>]`: checkout `head` (this one) or `base` (--base),
 * profile `action` or `mmo` (default patch rate 20 for action, --mmo-rate for mmo). The baseline of
 * the ratios is the first variant. Each run is one level of scripts/bench/level.ts (fresh server on
 * --server-cpu, that checkout's own generator on --gen-cpu). Results: bench-results/cpu-<time>/
 * {summary.md,summary.json,<run>.json,<run>.server.log}.
 *
 * Other people's work on the machine skews both: a server starved of CPU does less work per player
 * (it skips snapshots to backed-up sockets) and batches more per wake-up. So each run waits
 * (at most --quiet-wait s) until at most --quiet % of all cores are busy, and a run whose server
 * waited for a CPU more than --contended % of the window is repeated (up to --retries times),
 * keeping the least contended attempt.
 */
import { cpus, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENV, SEND_PROFILES, type SendProfile } from '../../contract/env.ts';
import { TRANSPORTS, type TransportName } from '../../contract/ports.ts';
import type { LoadReport } from '../../client/loadtest/report.ts';
import { PROJECT_ROOT } from '../lib/root.ts';
import { loadNow, runLevel } from './level.ts';

const args = parseArgs({
  options: {
    base: { type: 'string' },
    levels: { type: 'string', default: '500,1000' },
    transport: { type: 'string', default: 'ws' },
    variants: { type: 'string' },
    'mmo-rate': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '20' },
    'server-cpu': { type: 'string', default: '0' },
    'gen-cpu': { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    quiet: { type: 'string', default: '35' },
    'quiet-wait': { type: 'string', default: '120' },
    contended: { type: 'string', default: '20' },
    retries: { type: 'string', default: '1' },
    out: { type: 'string', default: join(PROJECT_ROOT, 'bench-results') },
  },
}).values;

interface Variant {
  readonly name: string;
  readonly root: string;
  readonly profile: SendProfile;
  readonly patchRate: number;
}

function variants(): Variant[] {
  const spec = args.variants ?? (args.base ? 'base:action,head:action,head:mmo' : 'head:action,head:mmo');
  return spec.split(',').map((raw) => {
    const m = /^(base|head):(\w+)(?:@(\d+))?$/.exec(raw.trim());
    if (!m || !SEND_PROFILES.includes(m[2] as SendProfile)) throw new Error(`--variants: expected checkout:profile[@rate] such as head:mmo@10, got ${JSON.stringify(raw)}`);
    if (m[1] === 'base' && !args.base) throw new Error(`--variants: ${raw} needs --base <checkout>`);
    const profile = m[2] as SendProfile;
    const patchRate = m[3] ? Number(m[3]) : profile === 'mmo' ? Number(args['mmo-rate']) : 20;
    return { name: `${m[1]}:${profile}@${patchRate}`, root: m[1] === 'base' ? resolve(args.base!) : PROJECT_ROOT, profile, patchRate };
  });
}

const list = (raw: string): number[] =>
  raw.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`--levels: expected a comma list of player counts, got ${JSON.stringify(raw)}`);
    return n;
  });

const transports = args.transport === 'both' ? TRANSPORTS : [args.transport as TransportName];
if (!transports.every((t) => TRANSPORTS.includes(t))) throw new Error(`--transport: expected ws, udp or both, got ${args.transport}`);
const all = variants();
const levels = list(args.levels);
const rounds = Number(args.rounds);
const duration = Number(args.duration);
const outDir = join(args.out, `cpu-${new Date().toISOString().replace(/[:.]/g, '-')}`);
await mkdir(outDir, { recursive: true });

interface Run {
  readonly transport: TransportName;
  readonly players: number;
  readonly variant: string;
  readonly round: number;
  readonly loadBefore: number[];
  readonly busyBefore: number | null;
  /** Runs made for this one (more than 1: the earlier ones were contended). */
  readonly attempts: number;
  readonly report: LoadReport | null;
}

const contendedAbove = Number(args.contended);
const serverWait = (r: LoadReport | null): number => r?.server?.waitPercent ?? Infinity;

const runs: Run[] = [];
for (const transport of transports) {
  for (const players of levels) {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? all : [...all].reverse();
      for (const v of order) {
        const label = `${transport}-${players}-${v.name.replace(/[:@]/g, '-')}-r${round}`;
        let best: Omit<Run, 'attempts'> | undefined;
        let attempts = 0;
        while (attempts <= Number(args.retries)) {
          attempts++;
          process.stderr.write(`\n== ${transport} ${players} bots, ${v.name}, round ${round}${attempts > 1 ? `, attempt ${attempts}` : ''} (loadavg ${loadNow().join(' ')}) ==\n`);
          const { report, loadBefore, busyBefore } = await runLevel({
            root: v.root, label: attempts > 1 ? `${label}-a${attempts}` : label, outDir, transport, players, durationS: duration,
            env: { [ENV.sendProfile.name]: v.profile, [ENV.patchRate.name]: String(v.patchRate) },
            serverCpu: args['server-cpu'], genCpu: args['gen-cpu'], workers: args.workers,
            quiet: { maxBusyPercent: Number(args.quiet), maxWaitS: Number(args['quiet-wait']) },
          });
          if (!best || serverWait(report) < serverWait(best.report)) best = { transport, players, variant: v.name, round, loadBefore, busyBefore, report };
          if (serverWait(report) <= contendedAbove) break;
          process.stderr.write(`server waited for a CPU ${serverWait(report)} % of the window (> ${contendedAbove} %): contended\n`);
        }
        runs.push({ ...best!, attempts });
      }
    }
  }
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const num = (v: number | null | undefined): number | null => (v === null || v === undefined || Number.isNaN(v) ? null : v);
const f = (v: number | null, digits = 1): string => (v === null ? 'n/a' : v.toFixed(digits));
/** % of one core per player, from a run. */
const serverPer = (r: LoadReport): number | null => (num(r.server?.cpuPercent) === null ? null : r.server!.cpuPercent! / r.config.players);
const generatorPer = (r: LoadReport): number => r.generator.cpuPercent / r.config.players;

interface Row {
  readonly transport: TransportName;
  readonly players: number;
  readonly variant: string;
  readonly runs: number;
  /** Medians over the rounds. */
  readonly serverPerPlayer: number | null;
  readonly generatorPerBot: number | null;
  readonly serverCpu: number | null;
  readonly serverWait: number | null;
  readonly serverKernel: number | null;
  readonly framesPerPlayer: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly tickP99: number | null;
  readonly generatorKeptUp: boolean;
  readonly allJoined: boolean;
  /** Server CPU per player against the first variant's at the same level and transport. */
  readonly ratio: number | null;
  readonly loads: string;
  readonly threads: Record<string, number> | null;
}

const rows: Row[] = [];
for (const transport of transports) {
  for (const players of levels) {
    let baseline: number | null = null;
    for (const v of all) {
      const mine = runs.filter((r) => r.transport === transport && r.players === players && r.variant === v.name);
      const reports = mine.map((r) => r.report).filter((r): r is LoadReport => r !== null);
      const serverPerPlayer = median(reports.map(serverPer).filter((x): x is number => x !== null));
      if (v === all[0]) baseline = serverPerPlayer;
      const threadNames = new Set(reports.flatMap((r) => Object.keys(r.server?.threads ?? {})));
      const threads = threadNames.size
        ? Object.fromEntries([...threadNames].map((n) => [n, median(reports.map((r) => r.server?.threads?.[n] ?? 0))!]))
        : null;
      rows.push({
        transport, players, variant: v.name, runs: reports.length,
        serverPerPlayer,
        generatorPerBot: median(reports.map(generatorPer)),
        serverCpu: median(reports.map((r) => num(r.server?.cpuPercent)).filter((x): x is number => x !== null)),
        serverWait: median(reports.map((r) => num(r.server?.waitPercent)).filter((x): x is number => x !== null)),
        serverKernel: median(reports.map((r) => num(r.server?.systemPercent)).filter((x): x is number => x !== null)),
        framesPerPlayer: median(reports.map((r) => (r.messages.framesInPerS === undefined ? null : r.messages.framesInPerS / r.config.players)).filter((x): x is number => x !== null)),
        p50: median(reports.map((r) => r.rtt.p50Ms)),
        p95: median(reports.map((r) => r.rtt.p95Ms)),
        tickP99: median(reports.map((r) => num(r.server?.tickP99Ms)).filter((x): x is number => x !== null)),
        generatorKeptUp: reports.every((r) => r.generator.keptUp),
        allJoined: reports.every((r) => r.ccu.atEnd === players),
        ratio: serverPerPlayer !== null && baseline ? serverPerPlayer / baseline : null,
        loads: mine.map((r) => `${r.loadBefore[0]!.toFixed(2)}${r.busyBefore === null ? '' : ` (${r.busyBefore.toFixed(0)} % busy)`}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}`).join(', '),
        threads,
      });
    }
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, server on CPU ${args['server-cpu']}, generator on CPU ${args['gen-cpu']} (${args.workers} worker(s))`;
const table = [
  `Machine: ${machine}`,
  `Run: ${new Date().toISOString()}, ${rounds} round(s) of ${duration} s windows, each started once the machine was ≤ ${args.quiet} % busy (waiting ≤ ${args['quiet-wait']} s) and repeated (≤ ${args.retries}×) when its server waited for a CPU > ${contendedAbove} % of it, variants alternating (${all.map((v) => v.name).join(', ')}; baseline ${all[0]!.name}${args.base ? `, base = ${resolve(args.base)}` : ''}); results in ${outDir}`,
  '',
  '| transport | bots | variant | server CPU % of a core per player | vs baseline | generator CPU % per bot | server CPU % (kernel, wait %) | frames/player/s | move→ack p50 / p95 ms | tick p99 ms | generator kept up | loadavg (machine busy) before each run |',
  '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ...rows.map((r) =>
    `| ${r.transport} | ${r.players} | ${r.variant} | ${f(r.serverPerPlayer, 4)} | ${r.ratio === null ? '—' : `× ${r.ratio.toFixed(2)}`} | ${f(r.generatorPerBot, 4)} | ${f(r.serverCpu)} (${f(r.serverKernel)}, ${f(r.serverWait)}) | ${f(r.framesPerPlayer)} | ${f(r.p50)} / ${f(r.p95)} | ${f(r.tickP99)} | ${r.generatorKeptUp ? 'yes' : 'no'}${r.allJoined ? '' : ', not all joined'} | ${r.loads} |`,
  ),
  '',
  'Server threads (median % of one core over the window), where the per-thread numbers exist:',
  '',
  ...rows.filter((r) => r.threads).map((r) => `- ${r.transport} ${r.players} ${r.variant}: ${Object.entries(r.threads!).filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`),
].join('\n');
await writeFile(join(outDir, 'summary.md'), `${table}\n`);
await writeFile(join(outDir, 'summary.json'), `${JSON.stringify({ machine, variants: all, rows, runs }, null, 2)}\n`);
process.stdout.write(`\n${table}\n`);
