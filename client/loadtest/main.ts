/**
 * `npm run loadtest -- --url … --players N --transport ws|udp --duration S --ramp S [--json F] [--check]`
 *
 * Phases: start bots over the ramp → wait until every bot joined or gave up (bounded) → measure for
 * --duration seconds (the window) → stop bots → print the table, write JSON. The server's tick
 * duration comes from two /metrics scrapes framing the window. The whole run is bounded: a
 * watchdog ends the process if stopping hangs.
 *
 * Exit codes (contract/exit-codes.ts): 0 done (and --check passed), 2 bad flags, 3 --check failed,
 * 1 unexpected error.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EXIT } from '../../contract/exit-codes.ts';
import { METRICS } from '../../contract/metrics.ts';
import { parseOptions, USAGE, UsageError, type LoadOptions } from './options.ts';
import {
  bucketsDelta,
  fractionAtOrBelow,
  histogramBuckets,
  histogramQuantile,
  parseMetrics,
  sumOf,
  type Sample,
} from './prometheus.ts';
import { buildReport, formatTable, type LoadReport, type ServerSide } from './report.ts';
import { StatsTotals, type StatsDelta } from './stats.ts';
import { runBots, type WorkerCommand, type WorkerReport } from './worker.ts';

interface Shard {
  post(c: WorkerCommand): void;
  terminate(): Promise<void>;
}

interface ShardLevels {
  joined: number;
  connecting: number;
  acked: number;
}

/** Starts the bot threads (in this thread when --workers 1) and routes their reports to `on`. */
async function startShards(o: LoadOptions, on: (r: WorkerReport) => void): Promise<Shard[]> {
  if (o.workers === 1) {
    const handle = await runBots({ options: o, worker: 0, workers: 1 }, (r) => queueMicrotask(() => on(r)));
    return [{ post: handle, terminate: async () => {} }];
  }
  const shards: Shard[] = [];
  const ready: Promise<void>[] = [];
  for (let w = 0; w < o.workers; w++) {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { loadtest: { options: o, worker: w, workers: o.workers } },
    });
    ready.push(
      new Promise((resolve, reject) => {
        worker.on('message', (r: WorkerReport) => {
          if (r.type === 'ready') resolve();
          else if (r.type === 'fatal') reject(new Error(`worker ${r.worker}: ${r.message}`));
          on(r);
        });
        worker.on('error', reject);
      }),
    );
    shards.push({ post: (c) => worker.postMessage(c), terminate: () => worker.terminate().then(() => {}) });
  }
  await Promise.all(ready);
  return shards;
}

async function scrape(url: string): Promise<Sample[]> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    // fetch says only "fetch failed"; the reason (refused, unknown host, timeout) is its cause.
    const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
    throw new Error(`GET ${url}: ${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`, { cause: err });
  }
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return parseMetrics(await res.text());
}

/**
 * CPU seconds a local process used so far, from /proc: user + system, and system (kernel) alone;
 * undefined when unreadable.
 */
async function processCpuSeconds(pid: number): Promise<{ total: number; system: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { total: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * Seconds the threads of a local process spent runnable but waiting for a CPU (Linux schedstat,
 * summed over threads); undefined when unreadable. High values mean the machine, not the process,
 * set the pace.
 */
async function runQueueSeconds(pid: number): Promise<number | undefined> {
  try {
    const tasks = await readdir(`/proc/${pid}/task`);
    let ns = 0;
    for (const t of tasks) {
      const stat = await readFile(`/proc/${pid}/task/${t}/schedstat`, 'utf8').catch(() => '');
      ns += Number(stat.split(' ')[1] ?? 0) || 0;
    }
    return ns / 1e9;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds each thread of a local process used so far, summed by thread name (Linux
 * /proc/<pid>/task); undefined when unreadable. Threads that ended are not counted.
 */
async function threadCpuSeconds(pid: number): Promise<Map<string, number> | undefined> {
  try {
    const tasks = await readdir(`/proc/${pid}/task`);
    const byName = new Map<string, number>();
    for (const t of tasks) {
      const stat = await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').catch(() => '');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      if (open < 0 || close < 0) continue;
      const name = stat.slice(open + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    }
    return byName;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

function serverSide(before: Sample[], after: Sample[]): Omit<ServerSide, 'cpuPercent' | 'systemPercent' | 'waitPercent' | 'threads'> {
  const name = METRICS.tickDuration.name;
  const end = histogramBuckets(after, name);
  const tick = end ? bucketsDelta(end, histogramBuckets(before, name)) : undefined;
  const has = (n: string) => after.some((s) => s.name === n);
  const ms = (v: number) => (Number.isNaN(v) ? null : Math.round(v * 1e5) / 100);
  return {
    tickP50Ms: tick ? ms(histogramQuantile(0.5, tick)) : null,
    tickP99Ms: tick ? ms(histogramQuantile(0.99, tick)) : null,
    ticks: tick?.count ?? 0,
    ticksWithin25ms: tick ? fractionAtOrBelow(0.025, tick) : null,
    tickOverruns: has(METRICS.tickOverruns.name)
      ? sumOf(after, METRICS.tickOverruns.name) - sumOf(before, METRICS.tickOverruns.name)
      : null,
    activePlayers: has(METRICS.activePlayers.name) ? sumOf(after, METRICS.activePlayers.name) : null,
    rejected: has(METRICS.messagesRejected.name)
      ? sumOf(after, METRICS.messagesRejected.name) - sumOf(before, METRICS.messagesRejected.name)
      : null,
  };
}

/** Slowest connect rate waited for after the ramp, bots per second (bounds the settle phase). */
const MIN_CONNECT_RATE = 20;

/** How long after the ramp the generator waits for connects to finish before measuring anyway. */
function settleBudgetMs(o: LoadOptions): number {
  return o.connectTimeoutMs * (o.connectRetries + 1) * 2 + 2000 + (o.players * 1000) / MIN_CONNECT_RATE;
}

/** Flush ids that open and close the measurement window; others only refresh the counts. */
const OPEN = -1;
const CLOSE = -2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one load test and returns its report. Progress goes to `log` (stderr by default). */
export async function runLoadTest(o: LoadOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<LoadReport> {
  const startedAt = new Date();
  const run = new StatsTotals();
  const window = new StatsTotals();
  const levels: ShardLevels[] = Array.from({ length: o.workers }, () => ({ joined: 0, connecting: 0, acked: 0 }));
  const inWindow: boolean[] = Array(o.workers).fill(false);
  let windowOpen = false;
  let minJoined = Number.POSITIVE_INFINITY;
  let finals = 0;
  let dones = 0;
  const flushWaiters = new Map<number, () => void>();
  let flushAcks = 0;

  const onReport = (r: WorkerReport): void => {
    if (r.type === 'stats' || r.type === 'final') {
      const d: StatsDelta = r.delta;
      run.add(d);
      if (inWindow[r.worker]) window.add(d);
      levels[r.worker] = { joined: d.joined, connecting: d.connecting, acked: d.acked };
      if (r.type === 'stats' && r.flush !== undefined) {
        // The delta just added covers time up to the flush, so it is counted before the switch.
        if (r.flush === OPEN) inWindow[r.worker] = true;
        if (r.flush === CLOSE) inWindow[r.worker] = false;
        if (++flushAcks === o.workers) flushWaiters.get(r.flush)?.();
      }
      if (r.type === 'final') finals++;
      if (windowOpen) minJoined = Math.min(minJoined, joinedNow());
    } else if (r.type === 'done') dones++;
    else if (r.type === 'fatal') log(`worker ${r.worker} failed: ${r.message}`);
  };
  const joinedNow = () => levels.reduce((a, l) => a + l.joined, 0);
  const connectingNow = () => levels.reduce((a, l) => a + l.connecting, 0);

  const shards = await startShards(o, onReport);
  const t0 = performance.now();
  const progress = o.progressS > 0 && !o.quiet
    ? setInterval(() => {
        const secs = (performance.now() - t0) / 1000;
        log(
          `[${secs.toFixed(0)} s] joined ${joinedNow()}/${o.players}, connecting ${connectingNow()}, failures ${run.connectFailures}, ` +
            `move→ack p95 ${(run.rtt.quantile(0.95) / 1000).toFixed(1)} ms, errors ${run.errorTotal()}`,
        );
      }, o.progressS * 1000)
    : undefined;

  try {
    for (const s of shards) s.post({ type: 'start' });
    // Ramp, then let connects settle: every bot started and then joined or failed. A server slower
    // to accept than the ramp delays the window rather than measuring a half-connected run.
    const settleMs = settleBudgetMs(o);
    const rampEnd = t0 + o.rampS * 1000;
    const settleBy = rampEnd + settleMs;
    await sleep(Math.max(0, rampEnd - performance.now()));
    // Counts arrive once a second per worker, so "none connecting" needs a fresh flush to be sure.
    for (let flushId = 1; performance.now() < settleBy; flushId++) {
      await flushAll(flushId);
      if (run.connectAttempts >= o.players && connectingNow() === 0) break;
      await sleep(200);
    }

    let before: Sample[] = [];
    let serverError: string | null = null;
    if (o.metricsUrl) {
      try {
        before = await scrape(o.metricsUrl);
      } catch (err) {
        serverError = (err as Error).message;
      }
    }
    await flushAll(OPEN);
    const serverCpuStart = o.serverPid === undefined ? undefined : await processCpuSeconds(o.serverPid);
    const serverWaitStart = o.serverPid === undefined ? undefined : await runQueueSeconds(o.serverPid);
    const serverThreadsStart = o.serverPid === undefined ? undefined : await threadCpuSeconds(o.serverPid);
    const ownWaitStart = await runQueueSeconds(process.pid);
    windowOpen = true;
    minJoined = joinedNow();
    const cpuStart = process.cpuUsage();
    const w0 = performance.now();
    await sleep(o.durationS * 1000);
    const cpu = process.cpuUsage(cpuStart);
    let after: Sample[] | undefined;
    if (o.metricsUrl && serverError === null) {
      try {
        after = await scrape(o.metricsUrl);
      } catch (err) {
        serverError = (err as Error).message;
      }
    }
    await flushAll(CLOSE);
    const serverCpuEnd = o.serverPid === undefined ? undefined : await processCpuSeconds(o.serverPid);
    const serverWaitEnd = o.serverPid === undefined ? undefined : await runQueueSeconds(o.serverPid);
    const serverThreadsEnd = o.serverPid === undefined ? undefined : await threadCpuSeconds(o.serverPid);
    const ownWaitEnd = await runQueueSeconds(process.pid);
    const windowS = (performance.now() - w0) / 1000;
    const pct = (a: number | undefined, b: number | undefined): number | null =>
      a !== undefined && b !== undefined ? Math.round(((b - a) / windowS) * 1000) / 10 : null;
    windowOpen = false;
    const joinedAtEnd = joinedNow();
    const acked = levels.reduce((a, l) => a + l.acked, 0);

    for (const s of shards) s.post({ type: 'stop' });
    const stopBy = performance.now() + 5000;
    while ((finals < o.workers || dones < o.workers) && performance.now() < stopBy) await sleep(50);

    let server: ServerSide | null = null;
    if (after) {
      let threads: Record<string, number> | null = null;
      if (serverThreadsStart && serverThreadsEnd) {
        threads = {};
        for (const [name, end] of serverThreadsEnd) threads[name] = pct(serverThreadsStart.get(name) ?? 0, end)!;
      }
      server = {
        ...serverSide(before, after),
        cpuPercent: pct(serverCpuStart?.total, serverCpuEnd?.total),
        systemPercent: pct(serverCpuStart?.system, serverCpuEnd?.system),
        waitPercent: pct(serverWaitStart, serverWaitEnd),
        threads,
      };
      if (server.ticks === 0 && server.tickP99Ms === null) serverError = `no ${METRICS.tickDuration.name} in ${o.metricsUrl}`;
    } else if (!o.metricsUrl) serverError = 'not read (--metrics-url none)';
    return buildReport({
      options: o,
      startedAt,
      windowS,
      window,
      run,
      joinedAtEnd,
      minJoinedInWindow: Number.isFinite(minJoined) ? minJoined : joinedAtEnd,
      acked,
      server,
      serverError,
      cpuMicros: cpu.user + cpu.system,
      waitPercent: pct(ownWaitStart, ownWaitEnd),
    });
  } finally {
    if (progress) clearInterval(progress);
    await Promise.all(shards.map((s) => s.terminate()));
  }

  /**
   * Asks every worker for its counts now and waits for all answers (bounded). The answers to OPEN
   * and CLOSE switch that worker's window, so the window holds exactly what happened between them.
   */
  async function flushAll(id: number): Promise<void> {
    flushAcks = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      flushWaiters.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      for (const s of shards) s.post({ type: 'flush', id });
    });
    flushWaiters.delete(id);
  }
}

/** The command: parse flags, run, print, write JSON, exit. */
export async function main(argv: readonly string[]): Promise<number> {
  let o;
  try {
    o = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`loadtest: ${err.message}\n\n${USAGE}\n`);
      return EXIT.invalidInput;
    }
    throw err;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  // Hard bound on the whole run, whatever happens to sockets: ramp + settle + window + stop.
  const budgetMs = (o.rampS + o.durationS) * 1000 + settleBudgetMs(o) + 30_000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`loadtest: still running after ${Math.round(budgetMs / 1000)} s; giving up\n`);
    process.exit(EXIT.unexpected);
  }, budgetMs);
  watchdog.unref();
  const report = await runLoadTest(o);
  process.stdout.write(`${formatTable(report)}\n`);
  if (o.json) await writeFile(o.json, `${JSON.stringify(report, null, 2)}\n`);
  return o.check && !report.check.passed ? EXIT.failed : EXIT.ok;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`loadtest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(EXIT.unexpected);
    },
  );
}
