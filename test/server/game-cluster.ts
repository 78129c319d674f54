// Game server processes on the suite's real services: a migrated database of their own, the shared
// Redis and RabbitMQ, one auth secret, loopback only. Built on scripts/lib/game-server.ts (the real
// `node server/src/main.ts`).
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { migratePostgres } from '../../server/src/store/postgres.ts';
import { startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';
import { createDatabase } from './helpers.ts';

export const SECRET = 'server-suite-cluster-secret-0123456789-abcdef';

export interface ClusterEnv {
  /** Environment every process of this cluster shares (URLs, secret). */
  readonly env: Record<string, string>;
  readonly databaseUrl: string;
  /** Drops the database. */
  dispose(): Promise<void>;
}

/**
 * A fresh migrated database plus the shared Redis and RabbitMQ. Redis is emptied first: zone claims
 * and sessions of processes an earlier test stopped would otherwise live on for their TTL.
 */
export async function clusterEnv(parts: { redis?: boolean; amqp?: boolean } = {}): Promise<ClusterEnv> {
  const services = inject('services');
  const db = await createDatabase();
  await migratePostgres(db.url);
  const env: Record<string, string> = { DATABASE_URL: db.url, MMO_AUTH_SECRET: SECRET };
  if (parts.redis !== false) {
    env.REDIS_URL = services.REDIS_URL;
    const redis = new Redis(services.REDIS_URL);
    await redis.flushdb();
    await redis.quit();
  }
  if (parts.amqp !== false) env.AMQP_URL = services.AMQP_URL;
  return { env, databaseUrl: db.url, dispose: () => db.drop() };
}

/** Starts one process and waits until /health/ready answers 200. */
export function startReady(env: Record<string, string>, timeoutMs = 30_000): Promise<GameServer> {
  return startGameServer({ env, readyTimeoutMs: timeoutMs });
}

/** True when /health/ready answers 200. */
export async function isReady(server: GameServer): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${server.ports.health}/health/ready`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** SIGTERM and the exit code (or signal), with how long the process took to leave. */
export async function terminate(server: GameServer): Promise<{ code: number | string; ms: number }> {
  const started = performance.now();
  server.process.kill('SIGTERM');
  const code = await server.exited;
  return { code, ms: performance.now() - started };
}
