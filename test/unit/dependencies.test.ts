import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.ts';
import { connectDependencies, DependencyError } from '../../server/src/dependencies.ts';
import { DependencyHealth } from '../../server/src/ops/health.ts';
import { createLogger } from '../../server/src/log.ts';

const quiet = createLogger('error', () => {});

describe('choosing dependencies from configuration', () => {
  it('runs everything in process with no URLs set: embedded database, local presence and bus', async () => {
    const deps = await connectDependencies(loadConfig({ MMO_DATA_DIR: 'memory://', MMO_SERVER_ID: 'solo' }), { log: quiet });
    try {
      expect(deps.mode).toEqual({ store: 'embedded', presence: 'local', bus: 'local' });
      expect(deps.health.ready()).toBe(true);
      const guest = await deps.auth.guest();
      expect(deps.auth.verify(guest.token).accountId).toBe(guest.claims.accountId);
      expect(await deps.store.getAccount(guest.claims.accountId)).toBeDefined();
    } finally {
      await deps.close();
    }
    // PGlite compiles its WebAssembly and runs initdb on open: seconds on a busy 2-core machine.
  }, 60_000);

  it('takes its settings from loadConfig: names from the environment contract, blank values unset', () => {
    const secret = 'a-secret-of-at-least-32-characters-0123';
    expect(loadConfig({ DATABASE_URL: '  ', REDIS_URL: 'redis://r:6379', MMO_AUTH_SECRET: secret, MMO_SERVER_ID: 'pod-1' })).toMatchObject({
      databaseUrl: undefined,
      dataDir: './data',
      redisUrl: 'redis://r:6379',
      amqpUrl: undefined,
      authSecret: secret,
      serverId: 'pod-1',
    });
  });

  it('refuses clustered mode without MMO_AUTH_SECRET before touching any service', async () => {
    const error = await connectDependencies({ dataDir: 'memory://', redisUrl: 'redis://127.0.0.1:1', serverId: 'a' }, { log: quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as DependencyError).variable).toBe('MMO_AUTH_SECRET');
    expect((error as Error).message).toMatch(/MMO_AUTH_SECRET: required when REDIS_URL or AMQP_URL is set/);
  });
});

describe('dependency health', () => {
  it('reports each dependency, calls back only on changes, and counts a hung probe as down', async () => {
    let busUp = true;
    const changes: string[] = [];
    const health = new DependencyHealth(
      {
        store: async () => {},
        presence: () => new Promise(() => {}), // never answers
        bus: async () => {
          if (!busUp) throw new Error('bus unavailable: broker gone');
        },
      },
      { timeoutMs: 50, onChange: (name, up, error) => changes.push(`${name}:${up ? 'up' : 'down'}${error ? `:${error}` : ''}`) },
    );
    expect(health.ready()).toBe(false); // nothing probed yet
    let snap = await health.check();
    expect(snap.store.up).toBe(true);
    expect(snap.presence).toMatchObject({ up: false, error: 'no answer within 50 ms' });
    expect(snap.bus.up).toBe(true);
    await health.check();
    busUp = false;
    snap = await health.check();
    expect(snap.bus).toMatchObject({ up: false, error: 'bus unavailable: broker gone' });
    expect(health.ready()).toBe(false);
    expect(changes.sort()).toEqual(['bus:down:bus unavailable: broker gone', 'bus:up', 'presence:down:no answer within 50 ms', 'store:up']);
  });
});
