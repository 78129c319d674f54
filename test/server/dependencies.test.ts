// connectDependencies against the real services: choosing them from URLs, clear refusals, and
// health that follows an outage and the recovery after it without a restart.
import { describe, expect, inject, it } from 'vitest';
import { freeTcpPort } from '../../scripts/lib/ports.ts';
import { Services } from '../../scripts/services/services.ts';
import { connectDependencies, type ConnectedDependencies, DependencyError } from '../../server/src/dependencies.ts';
import { createLogger } from '../../server/src/log.ts';
import { waitFor } from '../../scripts/lib/wait.ts';
import { createDatabase } from './helpers.ts';

const SECRET = 'server-suite-secret-0123456789-abcdefghij';
const quiet = createLogger('error', () => {});

describe('dependencies on the real services', () => {
  it('uses PostgreSQL, Redis and RabbitMQ when their URLs are set, and follows an outage of each', async () => {
    const { REDIS_URL, AMQP_URL } = inject('services');
    const db = await createDatabase();
    const services = new Services();
    const logs: string[] = [];
    let deps: ConnectedDependencies | undefined;
    try {
      deps = await connectDependencies(
        { databaseUrl: db.url, redisUrl: REDIS_URL, amqpUrl: AMQP_URL, authSecret: SECRET, dataDir: 'unused', serverId: 'deps-test' },
        { log: createLogger('debug', (line) => logs.push((JSON.parse(line) as { msg: string }).msg)), migrations: 'apply' },
      );
      expect(deps.mode).toEqual({ store: 'postgres', presence: 'redis', bus: 'rabbitmq' });
      expect(deps.health.ready()).toBe(true);
      const guest = await deps.auth.guest();
      expect(await deps.store.getAccount(guest.claims.accountId)).toBeDefined();

      for (const [service, dependency] of [['redis', 'presence'], ['rabbitmq', 'bus'], ['postgres', 'store']] as const) {
        await services.stop(service);
        await waitFor(`${dependency} to be reported down`, async () => !(await deps!.health.check())[dependency].up, 20_000);
        expect(deps.health.ready()).toBe(false);
        // One line when it went down (the error then; later probes may see another one).
        expect(logs.filter((l) => l.startsWith(`dependency ${dependency} is down: `))).toHaveLength(1);
        await services.start(service);
        await waitFor(`${dependency} to recover`, async () => (await deps!.health.check())[dependency].up, 30_000);
        expect(logs.at(-1)).toBe(`dependency ${dependency} is up`);
      }
      expect(deps.health.ready()).toBe(true);
      expect(await deps.store.getAccount(guest.claims.accountId)).toBeDefined();
    } finally {
      for (const s of ['redis', 'rabbitmq', 'postgres'] as const) await services.start(s);
      await deps?.close();
      await db.drop();
    }
  });

  it('names the variable and the fix when a configured service cannot be reached', async () => {
    const port = await freeTcpPort();
    const attempt = (config: object) =>
      connectDependencies({ dataDir: 'memory://', serverId: 'x', authSecret: SECRET, ...config }, { log: quiet, connectTimeoutMs: 1_000, memoryStore: true }).catch((e: unknown) => e);
    const redis = (await attempt({ redisUrl: `redis://127.0.0.1:${port}` })) as DependencyError;
    expect(redis).toBeInstanceOf(DependencyError);
    expect(redis.variable).toBe('REDIS_URL');
    expect(redis.message).toMatch(new RegExp(`REDIS_URL: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}.*unset REDIS_URL`));
    const amqp = (await attempt({ amqpUrl: `amqp://guest:hunter2@127.0.0.1:${port}` })) as DependencyError;
    expect(amqp.variable).toBe('AMQP_URL');
    expect(amqp.message).toMatch(/AMQP_URL: cannot reach RabbitMQ at amqp:\/\/127\.0\.0\.1:\d+.*unset AMQP_URL/);
    expect(amqp.message).not.toContain('hunter2');
    const database = (await attempt({ databaseUrl: `postgres://mmo:hunter2@127.0.0.1:${port}/mmo` })) as DependencyError;
    expect(database.variable).toBe('DATABASE_URL');
    expect(database.message).toMatch(/DATABASE_URL: cannot use the database at postgres:\/\/mmo@127\.0\.0\.1:\d+\/mmo/);
    expect(database.message).not.toContain('hunter2');
  });

  it('refuses a database whose schema is behind, pointing at npm run migrate', async () => {
    const db = await createDatabase();
    try {
      const error = (await connectDependencies({ databaseUrl: db.url, dataDir: 'x', serverId: 'x' }, { log: quiet }).catch((e: unknown) => e)) as DependencyError;
      expect(error.variable).toBe('DATABASE_URL');
      expect(error.message).toMatch(/schema is behind.*npm run migrate/);
    } finally {
      await db.drop();
    }
  });
});
