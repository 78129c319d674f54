// Rate windows on the suite's real Redis: the conformance suite, and login throttling shared by two
// AccountAuth instances (as two processes hold) on one Redis.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { AccountAuth } from '../../server/src/auth/accounts.ts';
import { AuthError } from '../../server/src/auth/auth.ts';
import { redisWindows } from '../../server/src/limits/rate-window-redis.ts';
import { RedisConnection } from '../../server/src/redis.ts';
import { MemoryStore } from '../../server/src/store/memory.ts';
import { UnavailableError } from '../../server/src/unavailable.ts';
import { deleteKeys } from './helpers.ts';
import { describeRateWindow } from '../conformance/rate-window.ts';

const SECRET = 'server-suite-secret-0123456789-abcdefghij';

describeRateWindow('Redis', async () => {
  const url = inject('services').REDIS_URL;
  const keyPrefix = `mmo-test-${randomUUID()}:`;
  const connections: RedisConnection[] = [];
  return {
    shared: true,
    windows: async (now) => {
      const connection = await RedisConnection.connect(url, { keyPrefix });
      connections.push(connection);
      return redisWindows(connection, now);
    },
    dispose: async () => {
      for (const c of connections) await c.close();
      await deleteKeys(url, keyPrefix);
    },
  };
});

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof AuthError ? e.code : Promise.reject(e)),
  );

describe('login throttling on Redis', () => {
  it('counts a brute force spread over two processes as one, and survives a restart', async () => {
    const url = inject('services').REDIS_URL;
    const keyPrefix = `mmo-test-${randomUUID()}:`;
    const store = new MemoryStore(); // one database, as the processes of a cluster share
    const connections: RedisConnection[] = [];
    const process = async () => {
      const connection = await RedisConnection.connect(url, { keyPrefix });
      connections.push(connection);
      return new AccountAuth(store, { secret: SECRET, passwordCost: 10, windows: redisWindows(connection) });
    };
    try {
      const [a, b] = [await process(), await process()];
      await a.register('victim', 'password123');
      // 5 failures allowed per username: 3 on A and 2 on B use them all up.
      const guesses = [a, b, a, b, a].map((auth, i) => codeOf(auth.login('victim', `guess-${i}-xx`, `ip-${i}`)));
      expect(await Promise.all(guesses)).toEqual(Array(5).fill('bad_credentials'));
      expect(await codeOf(b.login('victim', 'password123', 'ip-9'))).toBe('rate_limited');
      expect(await codeOf(a.login('victim', 'password123', 'ip-9'))).toBe('rate_limited');
      // A process started later (a restarted pod) knows the failures too.
      expect(await codeOf((await process()).login('victim', 'password123', 'ip-9'))).toBe('rate_limited');

      // Per client: 20 attempts, whichever process they reach, concurrently.
      const attempts = Array.from({ length: 30 }, (_, i) => codeOf((i % 2 ? a : b).login(`nobody${i}`, 'password123', 'attacker')));
      const codes = await Promise.all(attempts);
      expect(codes.filter((c) => c === 'bad_credentials')).toHaveLength(20);
      expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(10);
    } finally {
      for (const c of connections) await c.close();
      await deleteKeys(url, keyPrefix);
    }
  });

  it('refuses logins as unavailable when Redis cannot answer, instead of skipping the throttle', async () => {
    const url = inject('services').REDIS_URL;
    const keyPrefix = `mmo-test-${randomUUID()}:`;
    const store = new MemoryStore();
    const connection = await RedisConnection.connect(url, { keyPrefix, commandTimeoutMs: 300 });
    const auth = new AccountAuth(store, { secret: SECRET, passwordCost: 10, windows: redisWindows(connection) });
    const admin = new Redis(url);
    try {
      await auth.register('walt', 'password123');
      // Redis itself stops answering (every client's commands wait, as on a hung or swamped Redis)
      // while the connection stays up: only its answer is missing.
      const pauseMs = 1500;
      await admin.call('CLIENT', 'PAUSE', String(pauseMs), 'ALL');
      const refused = await auth.login('walt', 'password123', 'k').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AuthError);
      expect((refused as AuthError).code).toBe('unavailable');
      expect((refused as AuthError).cause).toBeInstanceOf(UnavailableError);
      expect(((refused as AuthError).cause as Error).message).toMatch(/^login throttle unavailable: Redis at redis:\/\/127\.0\.0\.1:\d+: Command timed out$/);
      // Once Redis answers again, so does the throttle: the same login goes through.
      await admin.ping();
      expect(await codeOf(auth.login('walt', 'password123', 'k'))).toBe('ok');
    } finally {
      await admin.quit();
      await connection.close();
      await deleteKeys(url, keyPrefix);
    }
  });
});
