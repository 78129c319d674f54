/**
 * `npm run bench:ccu` — the largest CCU at which move→ack p95 stays under the send profile's
 * target (50 ms for action, 100 ms for mmo) and the server's tick p99 < 25 ms, over WebSocket and
 * over UDP.
 *
 * For each level a fresh server (`node server/src/main.ts` with embedded defaults, what `npm start`
 * runs, data in memory, the chosen send profile) is pinned to one core with taskset and the load
 * generator to the other (scripts/bench/level.ts); every level runs (or, with --stop-on-fail, levels
 * climb until one fails), then the gap between the last pass and the first failure is bisected. A
 * level only passes when every bot joined and the generator itself kept up: a level the generator
 * fell behind on is reported as limited by the generator, not the server. Results go to
 * bench-results/ as JSON plus a Markdown table for docs/benchmarks.md; with --profile, the server
 * runs under --cpu-prof at the first failing level (with --profile-at N, at N players instead) and
 * the hottest functions are listed next to the CPU of each server thread.
 *
 *   npm run bench:ccu -- [--transport ws|udp|both] [--ws-levels 1000,2000,…] [--udp-levels 250,…]
 *                        [--send-profile action|mmo] [--patch-rate N] [--root OTHER-CHECKOUT]
 *                        [--duration 30] [--server-cpu 0] [--gen-cpu 1] [--workers 1] [--bisect 2] [--profile]
 *                        [--profile-at N] [--stop-on-fail] [--quiet 35] [--quiet-wait 120] [--contended 20]
 *
 * Each level starts once at most --quiet % of the machine's cores are busy (waiting at most
 * --quiet-wait s); a level that fails while its server waited for a CPU more than --contended % of
 * the window runs once more (other work on the machine, not the server, may have failed it), and
 * the second attempt counts.
 */
import { cpus, totalmem } from 'node:os';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENV, SEND_PROFILES, type SendProfile } from '../../contract/env.ts';
import { TRANSPORTS, type TransportName } from '../../contract/ports.ts';
import type { LoadReport } from '../../client/loadtest/report.ts';
import { PROJECT_ROOT } from '../lib/root.ts';
import { summarizeProfile } from './cpu-profile.ts';
import { loadNow, runLevel as runLoadLevel } from './level.ts';

/** The move→ack p95 a level must stay under, by send profile: the mmo profile trades latency for writes. */
export const P95_LIMIT_MS: Readonly<Record<SendProfile, number>> = { action: 50, mmo: 100 };
const TICK_P99_LIMIT_MS = 25;

interface Level {
  readonly transport: TransportName;
  readonly players: number;
  readonly passed: boolean;
  readonly why: string[];
  readonly report: LoadReport | null;
  readonly loadBefore: number[];
  /** % of the machine busy just before the level (the quiet gate's last sample). */
  readonly busyBefore: number | null;
  /** 2 when the first attempt failed contended. */
  readonly attempt: number;
  /** The generator fell behind: the level measured the generator, not the server. */
  readonly generatorLimited: boolean;
}

function list(raw: string): number[] {
  return raw.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`expected a comma list of player counts, got ${JSON.stringify(raw)}`);
    return n;
  });
}

const args = parseArgs({
  options: {
    transport: { type: 'string', default: 'both' },
    'ws-levels': { type: 'string', default: '500,1000,2000,3000,4000,5000,6000' },
    'udp-levels': { type: 'string', default: '100,250,500,750,1000,1250,1500' },
    duration: { type: 'string', default: '30' },
    'server-cpu': { type: 'string', default: '0' },
    'gen-cpu': { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    bisect: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    'profile-at': { type: 'string' },
    'stop-on-fail': { type: 'boolean', default: false },
    quiet: { type: 'string', default: '35' },
    'quiet-wait': { type: 'string', default: '120' },
    contended: { type: 'string', default: '20' },
    'send-profile': { type: 'string', default: 'action' },
    'patch-rate': { type: 'string' },
    root: { type: 'string' },
    out: { type: 'string', default: join(PROJECT_ROOT, 'bench-results') },
  },
}).values;

const transports = args.transport === 'both' ? TRANSPORTS : [args.transport as TransportName];
if (!transports.every((t) => TRANSPORTS.includes(t))) throw new Error(`--transport: expected ws, udp or both, got ${args.transport}`);
const duration = Number(args.duration);
const profile = args['send-profile'] as SendProfile;
if (!SEND_PROFILES.includes(profile)) throw new Error(`--send-profile: expected ${SEND_PROFILES.join(' or ')}, got ${profile}`);
const patchRate = Number(args['patch-rate'] ?? (profile === 'mmo' ? 10 : 20));
const p95Limit = P95_LIMIT_MS[profile];
const root = args.root ? resolve(args.root) : PROJECT_ROOT;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(args.out, `ccu-${profile}-${stamp}`);
await mkdir(outDir, { recursive: true });

async function runLevel(transport: TransportName, players: number, profiling = false): Promise<Level> {
  const first = await attemptLevel(transport, players, profiling);
  const wait = first.report?.server?.waitPercent ?? 0;
  if (first.passed || profiling || wait <= Number(args.contended)) return first;
  process.stderr.write(`server waited for a CPU ${wait} % of the window (> ${args.contended} %): contended, once more\n`);
  return attemptLevel(transport, players, profiling, 2);
}

async function attemptLevel(transport: TransportName, players: number, profiling: boolean, attempt = 1): Promise<Level> {
  process.stderr.write(`\n== ${transport} ${players} players, ${profile} at ${patchRate} Hz (loadavg ${loadNow().join(' ')}) ==\n`);
  const profDir = join(outDir, `profile-${transport}-${players}`);
  const { report, loadBefore, busyBefore } = await runLoadLevel({
    root, label: `${transport}-${players}${attempt > 1 ? `-a${attempt}` : ''}`, outDir, transport, players, durationS: duration,
    env: { [ENV.sendProfile.name]: profile, [ENV.patchRate.name]: String(patchRate) },
    serverCpu: args['server-cpu'], genCpu: args['gen-cpu'], workers: args.workers,
    quiet: { maxBusyPercent: Number(args.quiet), maxWaitS: Number(args['quiet-wait']) },
    nodeArgs: profiling ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  });
  const why: string[] = [];
  let generatorLimited = false;
  if (!report) why.push('no report (the load generator failed)');
  else {
    if (report.ccu.atEnd < players) why.push(`only ${report.ccu.atEnd} joined`);
    if (report.rtt.p95Ms >= p95Limit) why.push(`move→ack p95 ${report.rtt.p95Ms} ms`);
    const tick = report.server?.tickP99Ms;
    if (tick === null || tick === undefined) why.push('tick p99 unknown');
    else if (tick >= TICK_P99_LIMIT_MS) why.push(`tick p99 ${tick} ms`);
    if (!report.generator.keptUp) {
      generatorLimited = true;
      why.push(`generator fell behind (lag p99 ${report.generator.lagP99Ms} ms, ${report.generator.cpuPercent} % CPU): limited by the generator`);
    }
  }
  const level: Level = { transport, players, passed: why.length === 0, why, report, loadBefore, busyBefore, attempt, generatorLimited };
  process.stderr.write(`-> ${level.passed ? 'PASS' : `FAIL: ${why.join('; ')}`}\n`);
  if (profiling) {
    // --cpu-prof sees JavaScript only; native threads (the WebRTC stack's among them) show here.
    const threads = Object.entries(report?.server?.threads ?? {}).filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]);
    const threadLine = `server threads, % of one core over the window: ${threads.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ') || 'n/a'}`;
    process.stderr.write(`${threadLine}\n`);
    // One profile per thread: the main thread's first, then the embedded store's worker.
    const files = (await readdir(profDir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile')).sort();
    for (const [i, file] of files.entries()) {
      const top = `${i === 0 ? `${threadLine}\n\n` : ''}${summarizeProfile(JSON.parse(await readFile(join(profDir, file), 'utf8')), 25)}`;
      await writeFile(join(outDir, `profile-${transport}-${players}${i === 0 ? '' : `-thread${i}`}.txt`), top);
      process.stderr.write(`server CPU profile, ${i === 0 ? 'main thread' : `thread ${i}`} (${file}):\n${top}\n`);
    }
  }
  return level;
}

const results: Level[] = [];
const best: Record<string, number> = {};
for (const transport of transports) {
  const levels = list(transport === 'ws' ? args['ws-levels'] : args['udp-levels']);
  let lastPass = 0;
  let firstFail = 0;
  // Every level runs (the curve says more than one number on a shared machine) unless
  // --stop-on-fail; the bisection then works between the last pass before the first failure and it.
  for (const players of levels) {
    const l = await runLevel(transport, players);
    results.push(l);
    if (l.passed && !firstFail) lastPass = players;
    else if (!l.passed && !firstFail) {
      firstFail = players;
      if (args['stop-on-fail']) break;
    }
  }
  for (let i = 0; firstFail && i < Number(args.bisect) && firstFail - lastPass > Math.max(50, lastPass * 0.05); i++) {
    const mid = Math.round((lastPass + firstFail) / 2 / 50) * 50 || Math.round((lastPass + firstFail) / 2);
    if (mid <= lastPass || mid >= firstFail) break;
    const l = await runLevel(transport, mid);
    results.push(l);
    if (l.passed) lastPass = mid;
    else firstFail = mid;
  }
  best[transport] = lastPass;
  const profileAt = args['profile-at'] ? list(args['profile-at'])[0]! : firstFail;
  if (args.profile && profileAt) results.push(await runLevel(transport, profileAt, true));
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, server on CPU ${args['server-cpu']}, generator on CPU ${args['gen-cpu']} (${args.workers} worker(s))`;
const f = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : String(v));
const perPlayer = (l: Level) => (l.report?.server?.cpuPercent == null ? 'n/a' : (l.report.server.cpuPercent / l.players).toFixed(4));
const perBot = (l: Level) => (l.report ? (l.report.generator.cpuPercent / l.players).toFixed(4) : 'n/a');
const rows = results.map((l) => {
  const r = l.report;
  return `| ${l.transport} | ${l.players} | ${f(r?.ccu.atEnd)} | ${f(r?.rtt.p50Ms)} / ${f(r?.rtt.p95Ms)} / ${f(r?.rtt.p99Ms)} | ${f(r?.server?.tickP99Ms)} | ${f(r?.server?.cpuPercent)} / ${f(r?.server?.waitPercent)} | ${perPlayer(l)} | ${f(r?.messages.framesInPerS)} | ${f(r?.generator.cpuPercent)} / ${f(r?.generator.waitPercent)} | ${perBot(l)} | ${f(r?.generator.lagP99Ms)} | ${l.loadBefore.join(' ')}${l.busyBefore === null ? '' : ` (${l.busyBefore} % busy)`}${l.attempt > 1 ? ', 2nd attempt' : ''} | ${l.passed ? 'pass' : l.why.join('; ')} |`;
});
const table = [
  `Machine: ${machine}`,
  `Run: ${new Date().toISOString()}, send profile ${profile} at ${patchRate} Hz${root === PROJECT_ROOT ? '' : ` (server and generator of ${root})`}, window ${duration} s per level; results in ${outDir}`,
  '',
  '| transport | bots | joined | move→ack p50 / p95 / p99 ms | tick p99 ms | server CPU / CPU wait % | server CPU % per player | server frames in/s | generator CPU / CPU wait % | generator CPU % per bot | generator lag p99 ms | loadavg (machine busy) before | verdict |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  ...Object.entries(best).map(([t, n]) => `Largest passing CCU over ${t}: **${n}** (${profile}: p95 < ${p95Limit} ms, tick p99 < ${TICK_P99_LIMIT_MS} ms)`),
  ...results.filter((l) => l.generatorLimited).map((l) => `Limited by the generator, not the server: ${l.transport} ${l.players} (server at ${f(l.report?.server?.cpuPercent)} % of its core)`),
].join('\n');
await writeFile(join(outDir, 'summary.md'), `${table}\n`);
await writeFile(join(outDir, 'summary.json'), `${JSON.stringify({ machine, profile, patchRate, root, best, results }, null, 2)}\n`);
process.stdout.write(`\n${table}\n`);
