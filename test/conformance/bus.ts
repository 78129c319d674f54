/**
 * The behaviour every Bus must have. Unit tests run it over LocalBus, the server suite over
 * RabbitBus; a backend gives every test a fresh namespace that several clients (standing for
 * several server processes) share.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, BusMessage } from '../../server/src/bus/bus.ts';
import { waitFor } from '../../scripts/lib/wait.ts';

export interface BusBackend {
  /** A new client of this backend, as another server process would hold. */
  connect(): Promise<Bus>;
  /** Removes what the test left; called after its clients are closed. */
  dispose(): Promise<void>;
}

const chat = (text: string): BusMessage => ({ kind: 'chat', from: 'acc-1', fromName: 'ann', text, sentAt: 1_700_000_000_000 });
const whisper = (text: string, toAccountId = 'acc-2'): BusMessage => ({
  kind: 'whisper',
  from: 'acc-1',
  fromName: 'ann',
  toAccountId,
  text,
  sentAt: 1_700_000_000_000,
});

export function describeBus(name: string, newBackend: () => Promise<BusBackend>): void {
  describe(`Bus conformance: ${name}`, () => {
    let backend: BusBackend;
    let clients: Bus[];
    const connect = async () => {
      const client = await backend.connect();
      clients.push(client);
      return client;
    };
    /** A client subscribed as `serverId` that records what it receives. */
    const listener = async (serverId: string, bus?: Bus) => {
      const received: BusMessage[] = [];
      const client = bus ?? (await connect());
      await client.subscribe(serverId, (m) => {
        received.push(m);
      });
      return { client, received };
    };

    beforeEach(async () => {
      backend = await newBackend();
      clients = [];
    });
    afterEach(async () => {
      for (const client of clients) await client.close().catch(() => {});
      await backend.dispose();
    });

    it('answers a ping', async () => {
      const a = await connect();
      await expect(a.ping()).resolves.toBeUndefined();
    });

    it('delivers a global chat line to every process, the sender included', async () => {
      const a = await listener('server-a');
      const b = await listener('server-b');
      await a.client.publish(chat('hello all'));
      await waitFor('both processes to get the chat line', () => a.received.length === 1 && b.received.length === 1);
      expect(a.received).toEqual([chat('hello all')]);
      expect(b.received).toEqual([chat('hello all')]);
    });

    it('delivers a whisper to its target process only', async () => {
      const a = await listener('server-a');
      const b = await listener('server-b');
      await a.client.send('server-b', whisper('psst'));
      await waitFor('the whisper to arrive', () => b.received.length === 1);
      expect(b.received).toEqual([whisper('psst')]);
      // A broadcast after the whisper arrives after it: when it is seen, the whisper would have been too.
      await a.client.publish(chat('marker'));
      await waitFor('the marker', () => a.received.length === 1);
      expect(a.received).toEqual([chat('marker')]);
    });

    it('keeps direct messages for a process that is away until it subscribes', async () => {
      const a = await connect();
      await a.send('server-b', whisper('while you were away'));
      const kick: BusMessage = { kind: 'kick', accountId: 'acc-2', sessionId: 's1', reason: 'logged in elsewhere' };
      await a.send('server-b', kick);
      const b = await listener('server-b');
      await waitFor('the kept messages', () => b.received.length === 2);
      expect(b.received).toEqual([whisper('while you were away'), kick]);
    });

    it('keeps direct messages across a restart of the receiving process', async () => {
      const a = await connect();
      const first = await listener('server-b');
      await a.send('server-b', whisper('one'));
      await waitFor('the first whisper', () => first.received.length === 1);
      await first.client.close();
      await a.send('server-b', whisper('two'));
      const second = await listener('server-b');
      await waitFor('the whisper sent during the restart', () => second.received.length === 1);
      expect(second.received).toEqual([whisper('two')]);
    });

    it('delivers direct messages in the order they were sent, one handler call at a time', async () => {
      const a = await connect();
      const b = await connect();
      const seen: string[] = [];
      let running = 0;
      let maxRunning = 0;
      await b.subscribe('server-b', async (m) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (m.kind === 'whisper') seen.push(m.text);
        running--;
      });
      const texts = [...Array(50)].map((_, i) => `w${i}`);
      for (const text of texts) await a.send('server-b', whisper(text));
      await waitFor('50 whispers', () => seen.length === 50);
      expect(seen).toEqual(texts);
      expect(maxRunning).toBe(1);
    });

    it('goes on delivering after a handler throws', async () => {
      const a = await connect();
      const b = await connect();
      const seen: string[] = [];
      await b.subscribe('server-b', (m) => {
        if (m.kind === 'whisper' && m.text === 'bad') throw new Error('handler failed');
        if (m.kind === 'whisper') seen.push(m.text);
      });
      await a.send('server-b', whisper('bad'));
      await a.send('server-b', whisper('good'));
      await waitFor('the message after the failing one', () => seen.length === 1);
      expect(seen).toEqual(['good']);
    });

    it('carries every message kind intact', async () => {
      const a = await connect();
      const b = await listener('server-b');
      const messages: BusMessage[] = [
        chat('ünïcødé ✓ "quotes"'),
        whisper('w'),
        { kind: 'broadcast', text: 'server restarts in 5 minutes', sentAt: 1 },
        { kind: 'kick', accountId: 'acc-9', sessionId: 'sess', reason: 'duplicate login' },
        { kind: 'transfer', characterId: 'c1', accountId: 'acc-9', toZone: 3, fromServerId: 'server-a' },
      ];
      for (const m of messages) await a.send('server-b', m);
      await waitFor('all kinds', () => b.received.length === messages.length);
      expect(b.received).toEqual(messages);
    });

    it('refuses a second subscription on one client', async () => {
      const a = await connect();
      await a.subscribe('server-a', () => {});
      await expect(a.subscribe('server-a', () => {})).rejects.toThrow(/already subscribed/);
    });

    it('stops delivering to a closed client', async () => {
      const a = await listener('server-a');
      const b = await listener('server-b');
      await b.client.close();
      // A process taking over server-b's name: were the closed client still consuming, it would share
      // server-b's direct messages with it, so the new one getting all of them is the event that shows
      // the closed one got none (and it hears the broadcast that the closed one must not).
      const next = await listener('server-b');
      await a.client.publish(chat('after close'));
      const texts = ['one', 'two', 'three', 'four'];
      for (const text of texts) await a.client.send('server-b', whisper(text));
      await waitFor(
        () => `the open clients to get every message (server-a: ${a.received.length} of 1, the new server-b: ${next.received.length} of 5)`,
        () => a.received.length === 1 && next.received.length === 5,
      );
      expect(next.received.filter((m) => m.kind === 'whisper').map((m) => (m as { text: string }).text)).toEqual(texts);
      expect(b.received).toEqual([]);
    });
  });
}
