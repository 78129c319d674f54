/**
 * Starts the real server (`node server/src/main.ts`) on free ports with an in-memory store and
 * reads the bound ports from its "listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly ports: { game: number; health: number; metrics: number };
  /** Every JSON log line so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name) once the process ends. */
  readonly exited: Promise<number | string>;
  /** A fresh guest token. */
  token(): Promise<string>;
  /** Stops it (SIGKILL after 5 s) and waits. */
  stop(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['server/src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      MMO_HOST: '127.0.0.1',
      MMO_GAME_PORT: '0',
      MMO_HEALTH_PORT: '0',
      MMO_METRICS_PORT: '0',
      MMO_UDP_PORT: '0',
      MMO_DATA_DIR: 'memory://',
      MMO_SERVER_ID: `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'listening') resolve(entry);
        } catch {
          logs.push({ raw: line });
        }
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr.trim()}`)));
    setTimeout(() => reject(new Error(`server did not log "listening" within 30 s: ${stderr.trim()}`)), 30_000).unref();
  });
  const l = await listening;
  const ports = { game: l.game as number, health: l.health as number, metrics: l.metrics as number };
  const url = `http://127.0.0.1:${ports.game}`;
  return {
    proc,
    url,
    ports,
    logs,
    exited,
    async token() {
      const res = await fetch(`${url}/auth/guest`, { method: 'POST' });
      const body = (await res.json()) as { token?: string };
      if (!body.token) throw new Error(`POST /auth/guest answered ${res.status}: ${JSON.stringify(body)}`);
      return body.token;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
