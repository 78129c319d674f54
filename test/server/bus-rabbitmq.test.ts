import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { describe, expect, inject, it } from 'vitest';
import { Services } from '../../scripts/services/services.ts';
import type { BusMessage } from '../../server/src/bus/bus.ts';
import { RabbitBus } from '../../server/src/bus/rabbitmq.ts';
import { UnavailableError } from '../../server/src/unavailable.ts';
import { describeBus } from '../conformance/bus.ts';
import { waitFor } from '../../scripts/lib/wait.ts';

async function deleteTopology(url: string, prefix: string, servers: string[]): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  for (const s of servers) await channel.deleteQueue(`${prefix}.server.${s}`);
  await channel.deleteExchange(`${prefix}.broadcast`);
  await connection.close();
}

describeBus('RabbitMQ', async () => {
  const url = inject('services').AMQP_URL;
  const prefix = `mmo-test-${randomUUID()}`;
  return {
    connect: () => RabbitBus.connect(url, { prefix }),
    dispose: () => deleteTopology(url, prefix, ['server-a', 'server-b']),
  };
});

const whisper = (text: string): BusMessage => ({ kind: 'whisper', from: 'a1', fromName: 'ann', toAccountId: 'b1', text, sentAt: 1 });
const alive = (bus: RabbitBus) => bus.ping().then(() => true, () => false);

describe('Bus on RabbitMQ, when the broker restarts', () => {
  it('rejects at once during the outage, then reconnects, re-declares and resumes delivery, keeping direct messages', async () => {
    const url = inject('services').AMQP_URL;
    const prefix = `mmo-test-${randomUUID()}`;
    const events: string[] = [];
    const services = new Services();
    const a = await RabbitBus.connect(url, { prefix, onEvent: (e) => events.push(e) });
    const received: BusMessage[] = [];
    await a.subscribe('server-a', (m) => {
      received.push(m);
    });
    let b: RabbitBus | undefined;
    try {
      await a.send('server-b', whisper('sent before the restart')); // server-b is away
      await services.stop('rabbitmq');
      await waitFor('the bus to notice the outage', async () => !(await alive(a)), 15_000);
      expect(events).toContain('disconnected');
      const started = Date.now();
      await expect(a.publish({ kind: 'broadcast', text: 'x', sentAt: 1 })).rejects.toThrow(/bus unavailable: RabbitMQ at amqp:\/\/127\.0\.0\.1:\d+/);
      // Typed, so callers (a login's hello) answer `unavailable` without reading the message.
      await expect(a.send('server-b', whisper('during the outage'))).rejects.toBeInstanceOf(UnavailableError);
      expect(Date.now() - started).toBeLessThan(1_000);

      await services.start('rabbitmq');
      await waitFor('the bus to reconnect', () => alive(a), 30_000);
      await a.publish({ kind: 'broadcast', text: 'after the restart', sentAt: 2 });
      await a.send('server-a', whisper('direct after the restart'));
      await waitFor('deliveries to resume', () => received.length === 2, 10_000);
      expect(received).toEqual([{ kind: 'broadcast', text: 'after the restart', sentAt: 2 }, whisper('direct after the restart')]);

      // The persistent message in server-b's durable queue survived the broker restart.
      b = await RabbitBus.connect(url, { prefix });
      const forB: BusMessage[] = [];
      await b.subscribe('server-b', (m) => {
        forB.push(m);
      });
      await waitFor('the kept whisper', () => forB.length === 1, 10_000);
      expect(forB).toEqual([whisper('sent before the restart')]);
    } finally {
      await services.start('rabbitmq');
      await a.close();
      await b?.close();
      await deleteTopology(url, prefix, ['server-a', 'server-b']).catch(() => {});
    }
  });

  it('refuses to start with a message naming the address it cannot reach', async () => {
    await expect(RabbitBus.connect('amqp://guest:pw@127.0.0.1:1', { connectTimeoutMs: 1_000 })).rejects.toThrow(
      /cannot reach RabbitMQ at amqp:\/\/127\.0\.0\.1:1\b/,
    );
  });
});
