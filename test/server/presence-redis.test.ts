import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { Services } from '../../scripts/services/services.ts';
import { RedisPresence } from '../../server/src/presence/redis.ts';
import { UnavailableError } from '../../server/src/unavailable.ts';
import { deleteKeys } from './helpers.ts';
import { describePresence } from '../conformance/presence.ts';
import { waitFor } from '../../scripts/lib/wait.ts';

describePresence('Redis', async () => {
  const url = inject('services').REDIS_URL;
  const keyPrefix = `mmo-test-${randomUUID()}:`;
  return {
    connect: () => RedisPresence.connect(url, { keyPrefix }),
    dispose: () => deleteKeys(url, keyPrefix),
  };
});

describe('Presence on Redis, when Redis goes away', () => {
  it('fails fast during the outage and recovers on its own when Redis is back', async () => {
    const url = inject('services').REDIS_URL;
    const events: string[] = [];
    const presence = await RedisPresence.connect(url, { keyPrefix: `mmo-test-${randomUUID()}:`, onEvent: (e) => events.push(e) });
    const services = new Services();
    try {
      await presence.claimSession({ accountId: 'a', sessionId: 's', serverId: 'x' });
      await services.stop('redis');
      await waitFor('presence to notice the outage', async () => !(await presence.ping().then(() => true, () => false)));
      const started = Date.now();
      await expect(presence.online()).rejects.toThrow(/presence unavailable: Redis at redis:\/\/127\.0\.0\.1:\d+/);
      await expect(presence.claimSession({ accountId: 'a', sessionId: 't', serverId: 'x' })).rejects.toBeInstanceOf(UnavailableError);
      expect(Date.now() - started).toBeLessThan(2_500); // no hanging join while Redis is down
      expect(events).toContain('reconnecting');
      await services.start('redis');
      await waitFor('presence to reconnect', () => presence.ping().then(() => true, () => false), 20_000);
      // Redis ran without persistence: state is gone, and the processes rebuild it by re-reporting.
      expect(await presence.claimSession({ accountId: 'a', sessionId: 's2', serverId: 'x' })).toBeUndefined();
    } finally {
      await services.start('redis');
      await presence.close();
    }
  });

  it('refuses to start with a message naming the address it cannot reach', async () => {
    await expect(RedisPresence.connect('redis://:pw@127.0.0.1:1', { connectTimeoutMs: 1_000 })).rejects.toThrow(
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1\b/,
    );
  });
});
