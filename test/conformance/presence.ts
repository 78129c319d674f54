/**
 * The behaviour every Presence must have. Unit tests run it over LocalPresence, the server suite
 * over RedisPresence; a backend gives every test an empty namespace that several clients (standing
 * for several server processes) share.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Handoff, Presence, SessionClaim } from '../../server/src/presence/presence.ts';
import { waitFor } from '../../scripts/lib/wait.ts';

export interface PresenceBackend {
  /** A new client of this backend, as another server process would hold. */
  connect(): Promise<Presence>;
  /** Removes what the test left; called after its clients are closed. */
  dispose(): Promise<void>;
}

/**
 * TTL of the entries a test lets expire. They must outlive the few round trips the test makes
 * while checking they are there, even on a loaded machine; expiry is then awaited by polling.
 */
const SHORT_TTL = 2_000;

/** Polls `read` until it gives `expected` (an entry expiring); fails after 10 s with the last value. */
async function eventuallyEqual<T>(what: string, read: () => Promise<T>, expected: T): Promise<void> {
  let last: T | undefined;
  await waitFor(() => `${what} (last read ${JSON.stringify(last)})`, async () => isDeepStrictEqual((last = await read()), expected), 10_000);
}

export function describePresence(name: string, newBackend: () => Promise<PresenceBackend>): void {
  describe(`Presence conformance: ${name}`, () => {
    let backend: PresenceBackend;
    let clients: Presence[];
    const connect = async () => {
      const client = await backend.connect();
      clients.push(client);
      return client;
    };

    beforeEach(async () => {
      backend = await newBackend();
      clients = [];
    });
    afterEach(async () => {
      for (const client of clients) await client.close();
      await backend.dispose();
    });

    it('answers a ping', async () => {
      const a = await connect();
      await expect(a.ping()).resolves.toBeUndefined();
    });

    it('keeps one session per account and hands back the one a second login replaces', async () => {
      const [a, b] = [await connect(), await connect()];
      const first: SessionClaim = { accountId: 'acc-1', sessionId: 's1', serverId: 'server-a' };
      const second: SessionClaim = { accountId: 'acc-1', sessionId: 's2', serverId: 'server-b' };
      expect(await a.claimSession(first)).toBeUndefined();
      expect(await b.claimSession(second)).toEqual(first);
      expect(await a.getSession('acc-1')).toEqual(second);
      expect(await a.getSession('acc-2')).toBeUndefined();
    });

    it('replaces nothing when a session claims itself again', async () => {
      const a = await connect();
      const s: SessionClaim = { accountId: 'acc-1', sessionId: 's1', serverId: 'server-a' };
      await a.claimSession(s);
      expect(await a.claimSession(s)).toBeUndefined();
    });

    it('releases a session only while it is still the current one', async () => {
      const [a, b] = [await connect(), await connect()];
      await a.claimSession({ accountId: 'acc-1', sessionId: 's1', serverId: 'server-a' });
      await b.claimSession({ accountId: 'acc-1', sessionId: 's2', serverId: 'server-b' });
      await a.releaseSession('acc-1', 's1'); // the old process cleaning up late
      expect((await b.getSession('acc-1'))?.sessionId).toBe('s2');
      await b.releaseSession('acc-1', 's2');
      expect(await a.getSession('acc-1')).toBeUndefined();
    });

    it('adds up online counts of every live process and forgets a process that stops reporting', async () => {
      const [a, b] = [await connect(), await connect()];
      await a.reportOnline('server-a', { '0': 3, '1': 2 }, 60_000);
      await b.reportOnline('server-b', { '1': 4 }, SHORT_TTL);
      expect(await a.online()).toEqual({ total: 9, byZone: { '0': 3, '1': 6 } });
      await a.reportOnline('server-a', { '0': 1 }, 60_000); // a report replaces the previous one
      expect(await b.online()).toEqual({ total: 5, byZone: { '0': 1, '1': 4 } });
      await eventuallyEqual("server-b's counts to expire", () => a.online(), { total: 1, byZone: { '0': 1 } });
    });

    it('reports no players when nobody is online', async () => {
      const a = await connect();
      expect(await a.online()).toEqual({ total: 0, byZone: {} });
    });

    it('tells which live process owns a zone', async () => {
      const [a, b] = [await connect(), await connect()];
      await a.claimZones('server-a', [0, 1], 60_000);
      await b.claimZones('server-b', [2], SHORT_TTL);
      expect(await b.zoneOwner(0)).toBe('server-a');
      expect(await a.zoneOwner(1)).toBe('server-a');
      expect(await a.zoneOwner(2)).toBe('server-b');
      expect(await a.zoneOwner(3)).toBeUndefined();
      await eventuallyEqual("server-b's claim on zone 2 to expire", () => a.zoneOwner(2), undefined);
      expect(await a.zoneOwner(0)).toBe('server-a');
    });

    it('tells where a live process can be reached, and forgets a process that stops advertising', async () => {
      const [a, b] = [await connect(), await connect()];
      await a.advertise('server-a', 'http://10.0.0.1:8080', 60_000);
      await b.advertise('server-b', 'https://zone-b.example.org', SHORT_TTL);
      expect(await b.serverUrl('server-a')).toBe('http://10.0.0.1:8080');
      expect(await a.serverUrl('server-b')).toBe('https://zone-b.example.org');
      expect(await a.serverUrl('server-c')).toBeUndefined();
      await a.advertise('server-a', 'http://10.0.0.2:8080', 60_000);
      expect(await b.serverUrl('server-a')).toBe('http://10.0.0.2:8080');
      await eventuallyEqual("server-b's address to expire", () => a.serverUrl('server-b'), undefined);
    });

    it('hands a character over exactly once, whoever races for it', async () => {
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const handoff: Handoff = {
        characterId: 'char-1',
        fromServerId: 'server-a',
        toZone: 2,
        state: { x: 1.5, y: 2, hp: 90, inventory: [{ itemId: 'sword', quantity: 1 }] },
      };
      await a.putHandoff(handoff, 60_000);
      const takes = await Promise.all([...Array(10)].flatMap(() => [b.takeHandoff('char-1'), c.takeHandoff('char-1')]));
      const taken = takes.filter((t) => t !== undefined);
      expect(taken).toEqual([handoff]);
      expect(await b.takeHandoff('char-1')).toBeUndefined();
    });

    it('refuses a second pending handoff for one character', async () => {
      const [a, b] = [await connect(), await connect()];
      const handoff: Handoff = { characterId: 'char-1', fromServerId: 'server-a', toZone: 1, state: null };
      await a.putHandoff(handoff, 60_000);
      await expect(b.putHandoff({ ...handoff, fromServerId: 'server-b' }, 60_000)).rejects.toThrow(/already pending/);
      expect((await b.takeHandoff('char-1'))?.fromServerId).toBe('server-a');
      await expect(b.putHandoff({ ...handoff, fromServerId: 'server-b' }, 60_000)).resolves.toBeUndefined();
    });

    it('drops a handoff nobody takes in time', async () => {
      const a = await connect();
      const b = await connect();
      await a.putHandoff({ characterId: 'char-1', fromServerId: 'server-a', toZone: 1, state: { hp: 1 } }, SHORT_TTL);
      // Taking is destructive, so expiry is polled with a second handoff of the same character: refused
      // while the first is pending, accepted once it is gone.
      const refusals: string[] = [];
      await waitFor(
        () => `the pending handoff to expire (refused ${refusals.length} times)`,
        () => b.putHandoff({ characterId: 'char-1', fromServerId: 'server-b', toZone: 2, state: { hp: 2 } }, 60_000).then(
          () => true,
          (e: Error) => (refusals.push(e.message), false),
        ),
        10_000,
      );
      expect(refusals.length, 'the handoff was pending before it expired').toBeGreaterThan(0);
      expect(refusals.every((m) => /already pending/.test(m)), refusals.join('; ')).toBe(true);
      // Nothing of the expired one is left: what is taken is the second.
      expect(await a.takeHandoff('char-1')).toMatchObject({ fromServerId: 'server-b', toZone: 2 });
      expect(await a.takeHandoff('char-1')).toBeUndefined();
    });
  });
}
