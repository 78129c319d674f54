/**
 * Starts the real game server (`node server/src/main.ts`, what `npm start` runs) as a child process
 * on loopback and on ports that were free a moment ago, waits until /health/ready answers 200, and
 * stops it again. Every suite and benchmark that needs a server process uses this one starter.
 *
 * Callers may rely on: the server gets only PATH, the defaults below and `env` (nothing of the
 * shell's MMO_* or service URLs leaks in); an in-memory store unless `env` names another; its output
 * is kept (raw and as parsed JSON log lines) so a failing test can show why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ENV } from '../../contract/env.ts';
import { PATHS } from '../../contract/ports.ts';
import { parseMetrics, sumOf } from '../../client/loadtest/prometheus.ts';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { PROJECT_ROOT } from './root.ts';

/** The server's entry point, by absolute path (tests may run from any directory). */
export const SERVER_MAIN = join(PROJECT_ROOT, 'server', 'src', 'main.ts');

export interface GameServer {
  readonly process: ChildProcess;
  readonly ports: { game: number; health: number; metrics: number; udp: number };
  /** `http://127.0.0.1:<game port>`: the demo page, /auth and the GameClient's `url`. */
  readonly url: string;
  readonly metricsUrl: string;
  /** Every JSON log line so far (lines that are not JSON as `{ raw }`). */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name) once the process ends. */
  readonly exited: Promise<number | string>;
  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string;
  /** A fresh guest token from POST /auth/guest. */
  token(): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Extra environment (names from contract/env.ts). */
  readonly env?: Record<string, string>;
  /** Run under `taskset -c <cpus>` (benchmarks). */
  readonly cpus?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
  /** How long to wait for /health/ready (default 30 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Another checkout whose server to run (benchmarks comparing two versions side by side); default
   * this one. It needs its own node_modules.
   */
  readonly root?: string;
}

/** The node binary npm scripts use (Node 24 from node_modules), falling back to this process's. */
export function nodeBinary(): string {
  return process.execPath;
}

/** Starts a server and resolves once it is ready; rejects with its output when it is not. */
export async function startGameServer(options: StartOptions = {}): Promise<GameServer> {
  const ports = { game: await freeTcpPort(), health: await freeTcpPort(), metrics: await freeTcpPort(), udp: await freeUdpPort() };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    [ENV.host.name]: '127.0.0.1',
    [ENV.gamePort.name]: String(ports.game),
    [ENV.healthPort.name]: String(ports.health),
    [ENV.metricsPort.name]: String(ports.metrics),
    [ENV.udpPort.name]: String(ports.udp),
    [ENV.dataDir.name]: 'memory://',
    [ENV.drainSeconds.name]: '0',
    [ENV.serverId.name]: `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...options.env,
  };
  const root = options.root ?? PROJECT_ROOT;
  const args = [...(options.nodeArgs ?? []), join(root, 'server', 'src', 'main.ts')];
  const child = options.cpus
    ? spawn('taskset', ['-c', options.cpus, nodeBinary(), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(nodeBinary(), args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  const logs: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    keep(b);
    partial += b.toString();
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr!.on('data', keep);
  let exitCode: number | string | undefined;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve((exitCode = code ?? signal ?? 'unknown'))),
  );
  const url = `http://127.0.0.1:${ports.game}`;

  const server: GameServer = {
    process: child,
    ports,
    url,
    metricsUrl: `http://127.0.0.1:${ports.metrics}${PATHS.metrics}`,
    logs,
    exited,
    output: () => out,
    async token() {
      const res = await fetch(`${url}/auth/guest`, { method: 'POST' });
      const body = (await res.json()) as { token?: string };
      if (!body.token) throw new Error(`POST /auth/guest answered ${res.status}: ${JSON.stringify(body)}`);
      return body.token;
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };

  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const ready = `http://127.0.0.1:${ports.health}${PATHS.ready}`;
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`the game server exited (${exitCode}) before becoming ready:\n${out.slice(-4000)}`);
    }
    try {
      const res = await fetch(ready, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop(2000);
      throw new Error(`the game server was not ready at ${ready} within ${timeoutMs} ms:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sums the samples of `name` matching `match` on the server's /metrics. */
export async function metricValue(server: GameServer, name: string, match: Record<string, string> = {}): Promise<number> {
  const res = await fetch(server.metricsUrl, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${server.metricsUrl}: HTTP ${res.status}`);
  return sumOf(parseMetrics(await res.text()), name, match);
}
