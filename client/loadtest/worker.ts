/**
 * A load generator thread: runs every Nth bot (bot i where i % workers === worker), starts them on
 * the ramp with a bounded number of connects in flight, drives them from one Scheduler, and reports
 * a StatsDelta about once a second. The main thread talks to it with WorkerCommand messages.
 *
 * The same code also runs in the main thread (`runBots`) when no worker is wanted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Bot, DEFAULT_STEP, type BotConfig } from './bot.ts';
import type { LoadOptions } from './options.ts';
import { Scheduler } from './scheduler.ts';
import { connectRawUdp } from './udp-client.ts';
import { connectRawWebSocket } from './ws-client.ts';
import { BotStats, type StatsDelta } from './stats.ts';

export interface WorkerInit {
  readonly options: LoadOptions;
  readonly worker: number;
  readonly workers: number;
}

/** Main → worker. `flush` asks for a delta now; `stop` ends the run (a final delta, then `done`). */
export type WorkerCommand = { readonly type: 'start' } | { readonly type: 'flush'; readonly id: number } | { readonly type: 'stop' };

/** Worker → main. */
export type WorkerReport =
  | { readonly type: 'ready'; readonly worker: number }
  | { readonly type: 'stats'; readonly worker: number; readonly delta: StatsDelta; readonly flush?: number }
  | { readonly type: 'final'; readonly worker: number; readonly delta: StatsDelta }
  | { readonly type: 'done'; readonly worker: number }
  | { readonly type: 'fatal'; readonly worker: number; readonly message: string };

const REPORT_MS = 1000;
const RAMP_TICK_MS = 10;

/** Fetches a guest token, waiting out 429s, within `timeoutMs`. */
export async function guestToken(serverUrl: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const left = deadline - Date.now();
    const res = await fetch(`${serverUrl}/auth/guest`, {
      method: 'POST',
      signal: AbortSignal.timeout(Math.max(1, left)),
    });
    if (res.ok) {
      const body = (await res.json()) as { token?: unknown };
      if (typeof body.token !== 'string') throw new Error(`POST /auth/guest: no token in the answer`);
      return body.token;
    }
    await res.body?.cancel();
    const retry = Number(res.headers.get('retry-after') ?? '1') * 1000;
    if ((res.status !== 429 && res.status !== 503) || Date.now() + retry > deadline) {
      throw new Error(`POST /auth/guest: HTTP ${res.status} after ${attempt + 1} attempt(s)`);
    }
    await new Promise((r) => setTimeout(r, retry));
  }
}

/**
 * Runs this thread's share of bots; `send` receives its reports. Returns the command handler.
 */
export async function runBots(init: WorkerInit, send: (r: WorkerReport) => void): Promise<(c: WorkerCommand) => void> {
  const { options: o, worker, workers } = init;
  const node = await import('../node.ts');
  const stats = new BotStats();
  const cfg: BotConfig = {
    serverUrl: o.serverUrl,
    transport: o.transport,
    chatChannel: o.chatChannel,
    zones: o.zones,
    connectTimeoutMs: o.connectTimeoutMs,
    connectRetries: o.connectRetries,
    step: DEFAULT_STEP,
    // Plain ws:// through the generator's own lean client; wss:// through the ws package.
    openWebSocket: o.serverUrl.startsWith('http:') ? connectRawWebSocket : node.connectNodeWebSocket,
    // Straight to node-datachannel, without the browser-API polyfill and geckos' client.
    openUdp: connectRawUdp,
    token: () => guestToken(o.serverUrl, o.connectTimeoutMs),
  };
  const scheduler = new Scheduler<Bot>({ scenario: o.scenario, act: (bot, actions) => bot.act(actions) });

  const mine: number[] = [];
  for (let i = worker; i < o.players; i += workers) mine.push(i);
  const bots: Bot[] = [];
  let nextBot = 0;
  let inFlight = 0;
  let rampTimer: NodeJS.Timeout | undefined;
  let reportTimer: NodeJS.Timeout | undefined;
  let lastCpu = process.threadCpuUsage();
  let lastWall = performance.now();
  let stopped = false;

  const take = (): StatsDelta => {
    const cpu = process.threadCpuUsage(lastCpu);
    lastCpu = process.threadCpuUsage();
    const now = performance.now();
    const d = stats.take({
      lag: scheduler.lag,
      skippedSlots: scheduler.skippedSlots,
      cpuMicros: cpu.user + cpu.system,
      wallMs: now - lastWall,
    });
    scheduler.lag.reset();
    scheduler.skippedSlots = 0;
    lastWall = now;
    return d;
  };

  const rampTick = (): void => {
    const elapsed = performance.now() - t0;
    const rampMs = o.rampS * 1000;
    while (nextBot < mine.length && inFlight < o.connectConcurrency) {
      const index = mine[nextBot]!;
      // Bot i is due at i/players of the ramp, so all workers together start bots evenly.
      const due = o.players <= 1 ? 0 : (index / o.players) * rampMs;
      if (due > elapsed) break;
      nextBot++;
      const bot = new Bot(index, cfg, stats);
      bots.push(bot);
      bot.onJoined = (b) => scheduler.add(b);
      bot.onGone = (b) => scheduler.remove(b);
      inFlight++;
      void bot.start().finally(() => inFlight--);
    }
    if (nextBot >= mine.length && rampTimer) {
      clearInterval(rampTimer);
      rampTimer = undefined;
    }
  };

  let t0 = 0;
  const start = (): void => {
    t0 = performance.now();
    lastWall = t0;
    scheduler.start();
    rampTimer = setInterval(rampTick, RAMP_TICK_MS);
    rampTick();
    reportTimer = setInterval(() => send({ type: 'stats', worker, delta: take() }), REPORT_MS);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (rampTimer) clearInterval(rampTimer);
    if (reportTimer) clearInterval(reportTimer);
    scheduler.stop();
    send({ type: 'final', worker, delta: take() });
    for (const b of bots) b.stop();
    // Give closes a moment to go out (a WebRTC close is a message to the server too).
    await new Promise((r) => setTimeout(r, 250));
    send({ type: 'done', worker });
  };

  return (c: WorkerCommand) => {
    if (c.type === 'start') start();
    else if (c.type === 'flush') send({ type: 'stats', worker, delta: take(), flush: c.id });
    else if (c.type === 'stop') void stop();
  };
}

// Running as a worker thread: wire runBots to the parent port.
if (parentPort && workerData && (workerData as { loadtest?: WorkerInit }).loadtest) {
  const port = parentPort;
  const init = (workerData as { loadtest: WorkerInit }).loadtest;
  const post = (r: WorkerReport): void => port.postMessage(r);
  runBots(init, post).then(
    (handle) => {
      port.on('message', (c: WorkerCommand) => handle(c));
      post({ type: 'ready', worker: init.worker });
    },
    (err: unknown) => post({ type: 'fatal', worker: init.worker, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}
