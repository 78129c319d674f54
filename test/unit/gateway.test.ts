// The gateway driven through a fake connection (the transport boundary): what it does to a
// connection that stops reading, and how a hello that fails on a dependency is answered.
import { describe, expect, it } from 'vitest';
import { AccountAuth } from '../../server/src/auth/accounts.ts';
import { LocalBus } from '../../server/src/bus/local.ts';
import { createLogger } from '../../server/src/log.ts';
import { createMetrics } from '../../server/src/ops/metrics.ts';
import { LocalPresence } from '../../server/src/presence/local.ts';
import type { Presence } from '../../server/src/presence/presence.ts';
import { decodeServerFrame, encodeClientMessage, PROTOCOL_VERSION, type ServerMessage } from '../../protocol/codec.ts';
import { CharacterSaves } from '../../server/src/saves.ts';
import { MemoryStore } from '../../server/src/store/memory.ts';
import { StoreError, type Store } from '../../server/src/store/store.ts';
import { Gateway } from '../../server/src/gateway/gateway.ts';
import type { Connection } from '../../server/src/gateway/session.ts';
import { UnavailableError } from '../../server/src/unavailable.ts';
import { Traffic } from '../../server/src/world/traffic.ts';
import { World } from '../../server/src/world/world.ts';
import { waitFor } from '../../scripts/lib/wait.ts';
import type { SendProfile } from '../../contract/env.ts';

const SECRET = 'unit-gateway-secret-0123456789-abcdefgh';

/** A connection whose queued byte count the test sets; records frames and close calls. */
class FakeConnection implements Connection {
  readonly transport = 'ws' as const;
  readonly remote = 'test';
  readonly received: ServerMessage[] = [];
  /** Message types of each frame sent, in order. */
  readonly frames: string[][] = [];
  buffered = 0;
  closes = 0;
  send(frame: Uint8Array): void {
    const decoded = decodeServerFrame(frame);
    if (!Array.isArray(decoded)) throw new Error(`the server sent an undecodable frame: ${decoded.detail}`);
    this.received.push(...decoded);
    this.frames.push(decoded.map((m) => m.type));
  }
  close(): void {
    this.closes++;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
}

function newGateway(parts: { store?: Store; presence?: Presence; sendProfile?: SendProfile } = {}) {
  const store = parts.store ?? new MemoryStore();
  const traffic = new Traffic();
  const metrics = createMetrics(traffic);
  const log = createLogger('error', () => {});
  const world = new World(
    { zoneCount: 1, zoneSize: 200, zones: [0], interestRadius: 50, tickRate: 20, patchRate: 10, maxPlayers: 10, sendProfile: parts.sendProfile ?? 'action' },
    { traffic, publishGlobal: () => {} },
  );
  const auth = new AccountAuth(store, { secret: SECRET, passwordCost: 10 });
  const saves = new CharacterSaves(store, { observe: () => {}, failed: () => {} }, log);
  const gateway = new Gateway({
    world, auth, store, presence: parts.presence ?? new LocalPresence(), bus: new LocalBus(), metrics, log, serverId: 'unit', saves,
    now: () => performance.now(),
  });
  return { gateway, world, auth, saves };
}

async function hello(gateway: Gateway, token: string): Promise<FakeConnection> {
  const conn = new FakeConnection();
  const session = gateway.open(conn);
  session.onFrame(encodeClientMessage({ type: 'hello', version: PROTOCOL_VERSION, token }));
  await waitFor('the hello to be answered', async () => conn.received.some((m) => m.type === 'welcome' || m.type === 'error'), 3000);
  return conn;
}

describe('a connection that stops reading', () => {
  it('ends its session at once: out of the world, no further input applied, closed once', async () => {
    const { gateway, world, auth } = newGateway();
    const conn = await hello(gateway, (await auth.guest()).token);
    expect(conn.received.map((m) => m.type)).toContain('welcome');
    const [session] = gateway.sessions;
    expect(world.population).toBe(1);

    conn.buffered = 5 * 1024 * 1024; // the peer reads nothing: megabytes queued
    session!.onFrame(encodeClientMessage({ type: 'ping', nonce: 1, clientTime: 0 }));
    gateway.flush();
    expect(conn.closes).toBe(1);
    expect(session!.isClosed).toBe(true);
    expect(world.population).toBe(0);
    expect(gateway.sessions.size).toBe(0);

    // Frames still arriving during the transport's close handshake change nothing.
    const before = conn.received.length;
    session!.onFrame(encodeClientMessage({ type: 'move', seq: 1, x: 10, y: 10, clientTime: 0 }));
    gateway.flush();
    session!.closed('ws 1006'); // the transport's report comes later and is a no-op
    expect(conn.received.length).toBe(before);
    expect(conn.closes).toBe(1);
  });
});

describe('send profiles', () => {
  const move = (seq: number) => encodeClientMessage({ type: 'move', seq, x: 10, y: 10, clientTime: seq });

  it('action: a move is acknowledged in a frame of its own, before the next tick', async () => {
    const { gateway, auth } = newGateway({ sendProfile: 'action' });
    const conn = await hello(gateway, (await auth.guest()).token);
    const [session] = gateway.sessions;
    const frames = conn.frames.length;
    session!.onFrame(move(1));
    gateway.flush();
    expect(conn.frames.slice(frames)).toEqual([['ack']]);
  });

  it('mmo: the welcome leaves at once, then acknowledgements wait for the player\'s frame and share it with the snapshot', async () => {
    const { gateway, auth, world } = newGateway({ sendProfile: 'mmo' });
    const conn = await hello(gateway, (await auth.guest()).token);
    expect(conn.frames[0]).toEqual(['welcome', 'inventory']);
    const [session] = gateway.sessions;
    session!.onFrame(move(1));
    session!.onFrame(encodeClientMessage({ type: 'ping', nonce: 7, clientTime: 1 }));
    gateway.flush();
    expect(conn.frames).toHaveLength(1); // held
    for (let i = 0; i < 4; i++) {
      world.step(50);
      gateway.flush();
    }
    // Four ticks at 20 Hz with frames at 10 Hz: two frames, the first with what was held.
    expect(conn.frames.slice(1)).toEqual([['ack', 'pong', 'appear', 'snapshot'], ['snapshot']]);
  });

  it('mmo: a kick sends what was held with the error, at once', async () => {
    const { gateway, auth } = newGateway({ sendProfile: 'mmo' });
    const conn = await hello(gateway, (await auth.guest()).token);
    const [session] = gateway.sessions;
    session!.onFrame(move(1));
    session!.kick('session_replaced', 'logged in elsewhere');
    expect(conn.frames.at(-1)).toEqual(['ack', 'error']);
    expect(conn.closes).toBe(1);
  });
});

describe('a hello that fails', () => {
  const failingStore = (error: Error): Store => {
    const base = new MemoryStore();
    return new Proxy(base, {
      get(target, prop, receiver) {
        if (prop === 'loadOrCreateCharacter') return async () => Promise.reject(error);
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
  const kickedWith = async (parts: { store?: Store; presence?: Presence }) => {
    const { gateway, auth } = newGateway(parts);
    const conn = await hello(gateway, (await auth.guest()).token);
    return conn.received.find((m) => m.type === 'error');
  };

  it('answers unavailable for a store that is unavailable, whatever its message says', async () => {
    expect(await kickedWith({ store: failingStore(new StoreError('unavailable', 'the store worker exited (code 1)')) })).toMatchObject({ name: 'unavailable' });
  });

  it('answers unavailable for presence that is unavailable', async () => {
    const presence = new LocalPresence();
    presence.claimSession = async () => Promise.reject(new UnavailableError('presence unavailable: Redis at redis://127.0.0.1:1 is not connected'));
    expect(await kickedWith({ presence })).toMatchObject({ name: 'unavailable' });
  });

  it('answers internal for a fault whose message merely mentions the word', async () => {
    expect(await kickedWith({ store: failingStore(new TypeError("Cannot read properties of undefined (reading 'unavailable')")) })).toMatchObject({ name: 'internal' });
  });
});

describe('claiming sessions again after a presence outage', () => {
  it('claims them concurrently, and closes one a newer login elsewhere took meanwhile', async () => {
    const presence = new LocalPresence();
    const { gateway, auth, world } = newGateway({ presence });
    const guests = await Promise.all([1, 2, 3, 4].map(() => auth.guest()));
    for (const g of guests) await hello(gateway, g.token);
    expect(world.population).toBe(4);
    // The outage lost every claim; one account has since logged in on another process.
    for (const s of gateway.sessions) await presence.releaseSession(s.accountId!, s.sessionId!);
    const taken = guests[0]!.claims.accountId;
    await presence.claimSession({ accountId: taken, sessionId: 'newer', serverId: 'elsewhere' });

    const claim = presence.claimSession.bind(presence);
    let inFlight = 0;
    let most = 0;
    presence.claimSession = async (ref) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return claim(ref);
    };
    expect(await gateway.reclaimSessions()).toBe(3);
    expect(most).toBe(4); // all at once, not one round trip after another
    expect(world.population).toBe(3);
    expect(await presence.getSession(taken)).toMatchObject({ sessionId: 'newer', serverId: 'elsewhere' });
  });
});
