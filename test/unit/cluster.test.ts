// Two game servers in this process sharing one store, presence and bus (the in-process
// implementations), with real WebSocket clients on loopback: sessions, durable pickups, whispers,
// zone transfers and drains, without external services. The server suite repeats the cross-process
// cases over real PostgreSQL, Redis and RabbitMQ with separate processes.
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/src/app.ts';
import { AccountAuth } from '../../server/src/auth/accounts.ts';
import { createAuthHttpHandler } from '../../server/src/auth/http.ts';
import type { Bus, BusMessage } from '../../server/src/bus/bus.ts';
import { LocalBus, LocalBusHub } from '../../server/src/bus/local.ts';
import { GameClient, GameClientTransfer } from '../../client/game-client.ts';
import { NodeWebSocketImpl } from '../../client/node.ts';
import { ReconnectingClient } from '../../client/reconnecting-client.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/log.ts';
import { LocalPresence, LocalPresenceState } from '../../server/src/presence/local.ts';
import type { InventoryMessage } from '../../protocol/codec.ts';
import { MemoryStore } from '../../server/src/store/memory.ts';
import type { Store } from '../../server/src/store/store.ts';
import { waitFor } from '../../scripts/lib/wait.ts';

const SECRET = 'unit-cluster-secret-0123456789-abcdefgh';
const ADMIN = 'admin-token-0123456789';

interface Cluster {
  store: Store;
  auth: AccountAuth;
  presence: LocalPresenceState;
  hub: LocalBusHub;
  servers: RunningServer[];
}

let cluster: Cluster | undefined;
const clients: GameClient[] = [];
const reconnecting: ReconnectingClient[] = [];

function newCluster(store: Store = new MemoryStore()): Cluster {
  cluster = { store, auth: new AccountAuth(store, { secret: SECRET, passwordCost: 10 }), presence: new LocalPresenceState(), hub: new LocalBusHub(), servers: [] };
  return cluster;
}

/** Starts a server on the cluster's services; `own` replaces this process's view of store or bus. */
async function addServer(c: Cluster, id: string, env: Record<string, string> = {}, own: { store?: Store; bus?: Bus } = {}): Promise<RunningServer> {
  const config = loadConfig({
    MMO_HOST: '127.0.0.1', MMO_GAME_PORT: '0', MMO_HEALTH_PORT: '0', MMO_METRICS_PORT: '0', MMO_UDP_ENABLED: 'false',
    MMO_SERVER_ID: id, MMO_ZONE_COUNT: '2', MMO_ZONE_SIZE: '200', MMO_ADMIN_TOKEN: ADMIN, MMO_LOG_LEVEL: 'error', ...env,
  });
  const server = await startServer(
    config,
    {
      store: own.store ?? c.store, auth: c.auth, presence: new LocalPresence({ state: c.presence }), bus: own.bus ?? new LocalBus({ hub: c.hub }),
      routes: createAuthHttpHandler(c.auth),
    },
    createLogger('error'),
  );
  c.servers.push(server);
  return server;
}

const url = (s: RunningServer) => `http://127.0.0.1:${s.ports.game}`;
async function connect(s: RunningServer | string, token: string): Promise<GameClient> {
  const c = await GameClient.connect({ url: typeof s === 'string' ? s : url(s), token, transport: 'ws', WebSocket: NodeWebSocketImpl, attempts: 1 });
  clients.push(c);
  return c;
}
const inventoryOf = (c: GameClient) => new Promise<InventoryMessage>((resolve) => c.on('inventory', resolve));

afterEach(async () => {
  for (const r of reconnecting.splice(0)) r.close();
  for (const c of clients.splice(0)) c.close();
  for (const s of cluster?.servers ?? []) await s.close(1000);
  cluster = undefined;
});

describe('a durable pickup', () => {
  it('is acknowledged only after the store committed it, and is in the inventory on the next login', async () => {
    const base = new MemoryStore();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let reached!: () => void;
    const atStore = new Promise<void>((r) => (reached = r));
    // The store commits only when the test opens the gate.
    const store = new Proxy(base, {
      get(target, prop, receiver) {
        if (prop === 'grantItem') return async (...args: Parameters<Store['grantItem']>) => (reached(), await gate, target.grantItem(...args));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const c = newCluster(store);
    const a = await addServer(c, 'a');
    const { token, claims } = await c.auth.guest();
    const player = await connect(a, token);
    const granted: number[] = [];
    player.on('granted', (m) => granted.push(m.seq));
    const seq = player.pickup('herb');
    // The pickup waits at the store; a round trip after that brings anything the server sent first.
    await atStore;
    await player.ping();
    expect(granted).toEqual([]); // not committed yet: no acknowledgement
    open();
    const ack = await player.next('granted', 2000);
    expect(ack).toMatchObject({ seq, item: 'herb', quantity: 1 });
    const character = await base.loadOrCreateCharacter(claims.accountId, { name: '', zone: 0, x: 0, y: 0, hp: 1, level: 1, xp: 0 });
    expect(character.inventory).toEqual([{ itemId: 'herb', quantity: 1 }]);
    player.close();
    await player.closed;
    const again = await GameClient.connect({ url: url(a), token, transport: 'ws', WebSocket: NodeWebSocketImpl });
    clients.push(again);
    const inv = await inventoryOf(again);
    expect(inv.items).toEqual([{ item: 'herb', quantity: 1 }]);
  });

  it('answers unavailable with the pickup\'s sequence number when the store fails, and an unknown item with bad_field', async () => {
    const base = new MemoryStore();
    const store = new Proxy(base, {
      get(target, prop, receiver) {
        if (prop === 'grantItem') return async () => Promise.reject(new Error('database unavailable'));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const c = newCluster(store);
    const a = await addServer(c, 'a');
    const player = await connect(a, (await c.auth.guest()).token);
    const seq = player.pickup('ore');
    expect(await player.next('error', 2000)).toMatchObject({ name: 'unavailable', ref: seq });
    const bad = player.pickup('dragon');
    expect(await player.next('error', 2000)).toMatchObject({ name: 'bad_field', ref: bad });
  });
});

/**
 * A view of `store` whose character saves wait until `open()` (counted in `held`), so a test shows
 * what moves between sessions in memory (./handover.ts), not what a save left in the store.
 */
function holdSaves(store: Store): { store: Store; held: () => number; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let held = 0;
  const view = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'saveCharacters') return async (...args: Parameters<Store['saveCharacters']>) => (held++, await gate, target.saveCharacters(...args));
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store: view, held: () => held, open };
}

/** The character row the store holds for `accountId`. */
const storedRow = (store: Store, accountId: string) => store.loadOrCreateCharacter(accountId, { name: '', zone: 0, x: 0, y: 0, hp: 1, level: 1, xp: 0 });

describe('sessions', () => {
  it('a reconnect resumes the character where its last move was acknowledged, while its saves are held back', async () => {
    const c = newCluster();
    const saves = holdSaves(c.store);
    const a = await addServer(c, 'a', { MMO_SAVE_INTERVAL_SECONDS: '3600' }, { store: saves.store });
    const { token, claims } = await c.auth.guest();
    const first = await connect(a, token);
    first.move(first.welcome.x + 5, first.welcome.y + 5);
    const ack = await first.next('ack');
    first.close();
    await waitFor('the logout save to wait at the store', async () => saves.held() > 0, 3000);
    const second = await connect(a, token);
    expect({ x: second.welcome.x, y: second.welcome.y }).toEqual({ x: ack.x, y: ack.y });
    // The store still holds the spawn point: the position came from the session that ended.
    const row = await storedRow(c.store, claims.accountId);
    expect([row.x, row.y].map((v) => Math.round(v * 100) / 100)).toEqual([first.welcome.x, first.welcome.y].map((v) => Math.round(v * 100) / 100));
    saves.open();
  });

  it('a second login on another process kicks the first with session_replaced and takes over its newest state, while saves are held back', async () => {
    const c = newCluster();
    const saves = holdSaves(c.store);
    const a = await addServer(c, 'a', { MMO_SAVE_INTERVAL_SECONDS: '3600' }, { store: saves.store });
    const b = await addServer(c, 'b', { MMO_SAVE_INTERVAL_SECONDS: '3600' }, { store: saves.store });
    const { token, claims } = await c.auth.guest();
    const first = await connect(a, token);
    first.move(first.welcome.x + 7, first.welcome.y);
    const ack = await first.next('ack');
    const kicked = first.next('error', 5000);
    const second = await connect(b, token);
    expect(await kicked).toMatchObject({ name: 'session_replaced' });
    await first.closed;
    expect({ x: second.welcome.x, y: second.welcome.y }).toEqual({ x: ack.x, y: ack.y });
    expect(a.world.population).toBe(0);
    expect(b.world.population).toBe(1);
    // Nothing reached the store: the state travelled with a's answer to the kick.
    const row = await storedRow(c.store, claims.accountId);
    expect([row.x, row.y].map((v) => Math.round(v * 100) / 100)).toEqual([first.welcome.x, first.welcome.y].map((v) => Math.round(v * 100) / 100));
    saves.open();
  });
});

describe('across processes', () => {
  it('global chat and admin broadcasts reach players on every process; whispers find a registered player elsewhere', async () => {
    const c = newCluster();
    const a = await addServer(c, 'a');
    const b = await addServer(c, 'b');
    const ann = await c.auth.register('ann', 'password-ann');
    const bob = await c.auth.register('bob', 'password-bob');
    const onA = await connect(a, ann.token);
    const onB = await connect(b, bob.token);
    const heard = onB.next('chat', 3000, (m) => m.channel === 'global');
    onA.chat('global', 'hello from a');
    expect(await heard).toMatchObject({ channel: 'global', fromName: 'ann', text: 'hello from a' });

    const whispered = onB.next('chat', 3000, (m) => m.channel === 'whisper');
    onA.whisper('bob', 'psst');
    expect(await whispered).toMatchObject({ channel: 'whisper', fromName: 'ann', text: 'psst' });
    onA.whisper('nobody_here', 'hello?');
    expect(await onA.next('error', 3000)).toMatchObject({ name: 'not_online' });

    const announced = Promise.all([onA, onB].map((p) => p.next('chat', 3000, (m) => m.fromName === 'server')));
    const admin = `http://127.0.0.1:${a.ports.metrics}/admin/broadcast`;
    expect((await fetch(admin, { method: 'POST', body: JSON.stringify({ text: 'maintenance at noon' }) })).status).toBe(401);
    const res = await fetch(admin, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ text: 'maintenance at noon' }) });
    expect(res.status).toBe(202);
    for (const m of await announced) expect(m.text).toBe('maintenance at noon');
    const bad = await fetch(admin, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ text: '' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^text: expected/);
    const huge = await fetch(admin, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ text: 'x'.repeat(8192) }) });
    expect(huge.status).toBe(413); // as the game port answers a body over its limit
  });

  it('a whisper finds its player whatever the case of the name typed, here and on another process', async () => {
    const c = newCluster();
    const a = await addServer(c, 'a');
    const b = await addServer(c, 'b');
    const onA = await connect(a, (await c.auth.register('Ann', 'password-ann')).token);
    const neighbour = await connect(a, (await c.auth.register('cid', 'password-cid')).token);
    const elsewhere = await connect(b, (await c.auth.register('bob', 'password-bob')).token);
    const here = neighbour.next('chat', 3000, (m) => m.channel === 'whisper');
    onA.whisper('Cid', 'same process');
    expect(await here).toMatchObject({ fromName: 'ann', text: 'same process' });
    const there = elsewhere.next('chat', 3000, (m) => m.channel === 'whisper');
    onA.whisper('BOB', 'other process');
    expect(await there).toMatchObject({ fromName: 'ann', text: 'other process' });
  });

  it('a zone transfer moves the character to the owning process exactly once, with its state', async () => {
    const c = newCluster();
    const a = await addServer(c, 'a', { MMO_ZONES: '0' });
    const b = await addServer(c, 'b', { MMO_ZONES: '1' });
    const { token, claims } = await c.auth.guest();
    const player = await connect(a, token);
    expect(player.welcome.zone).toBe(0);
    player.pickup('gem');
    await player.next('granted');
    const transfer = player.next('transfer', 3000);
    player.join(1);
    const t = await transfer;
    expect(t).toEqual({ type: 'transfer', zone: 1, url: url(b) });
    await player.closed;
    expect(a.world.population).toBe(0);

    const there = await connect(t.url, token);
    const inventory = inventoryOf(there);
    expect(there.welcome).toMatchObject({ serverId: 'b', zone: 1 });
    expect((await inventory).items).toEqual([{ item: 'gem', quantity: 1 }]);
    expect(b.world.population).toBe(1);
    const metric = async (s: RunningServer, direction: string) => (await s.metrics.zoneTransfers.get()).values.find((v) => v.labels.direction === direction)?.value ?? 0;
    expect(await metric(a, 'out')).toBe(1);
    expect(await metric(b, 'in')).toBe(1);
    // The handoff is spent: nobody can take it again.
    expect(await new LocalPresence({ state: c.presence }).takeHandoff((await c.store.loadOrCreateCharacter(claims.accountId, { name: '', zone: 0, x: 0, y: 0, hp: 1, level: 1, xp: 0 })).id)).toBeUndefined();

    // Connecting to the old process again sends the player back to the owner instead of duplicating it.
    there.close();
    await there.closed;
    await expect(GameClient.connect({ url: url(a), token, transport: 'ws', WebSocket: NodeWebSocketImpl, attempts: 1 })).rejects.toBeInstanceOf(GameClientTransfer);
    expect(a.world.population).toBe(0);
  });

  it('a login elsewhere while a zone transfer is saving waits for that save and lands in the new zone', async () => {
    const c = newCluster();
    const events: string[] = [];
    // Process a's saves wait for a gate once armed; the gate opens (a macrotask later) when the
    // kick for the replaced session reaches a, and a's `released` answer is recorded in order.
    let armed = false;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let saving!: () => void;
    const transferSaving = new Promise<void>((r) => (saving = r));
    const store = new Proxy(c.store, {
      get(target, prop, receiver) {
        if (prop === 'saveCharacters') {
          return async (...args: Parameters<Store['saveCharacters']>) => {
            if (!armed) return target.saveCharacters(...args);
            saving();
            await gate;
            await target.saveCharacters(...args);
            events.push(`saved zone ${args[0].map((s) => s.zone).join(',')}`);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const local = new LocalBus({ hub: c.hub });
    const bus: Bus = {
      ping: () => local.ping(),
      publish: (m) => local.publish(m),
      close: () => local.close(),
      send: (to: string, m: BusMessage) => {
        if (m.kind === 'released') events.push('released');
        return local.send(to, m);
      },
      subscribe: (id, handler) =>
        local.subscribe(id, (m) => {
          const handled = handler(m);
          if (m.kind === 'kick') setImmediate(open);
          return handled;
        }),
    };
    const a = await addServer(c, 'a', { MMO_ZONES: '0', MMO_SAVE_INTERVAL_SECONDS: '3600' }, { store, bus });
    const b = await addServer(c, 'b', { MMO_ZONES: '1', MMO_SAVE_INTERVAL_SECONDS: '3600' });
    const { token } = await c.auth.guest();
    const first = await connect(a, token);
    armed = true;
    const kicked = first.next('error', 5000);
    first.join(1);
    await transferSaving;
    // The transfer's save (zone 1) is in flight: a login on b now replaces the session on a.
    const second = await connect(b, token);
    expect(await kicked).toMatchObject({ name: 'session_replaced' });
    expect(events.slice(0, 2)).toEqual(['saved zone 1', 'released']);
    expect(second.welcome).toMatchObject({ serverId: 'b', zone: 1 });
    expect(b.world.population).toBe(1);
    expect(a.world.population).toBe(0);
  });

  it('refuses a transfer into a zone no live process serves, and the player stays', async () => {
    const c = newCluster();
    const a = await addServer(c, 'a', { MMO_ZONES: '0' });
    const player = await connect(a, (await c.auth.guest()).token);
    player.join(1);
    expect(await player.next('error', 3000)).toMatchObject({ name: 'zone_unavailable' });
    player.move(player.welcome.x + 1, player.welcome.y);
    await player.next('ack');
    expect(a.world.population).toBe(1);
  });

  it('a ReconnectingClient follows a drain to the next process and resumes where it was acknowledged', async () => {
    const c = newCluster();
    const a = await addServer(c, 'a', { MMO_SAVE_INTERVAL_SECONDS: '3600' });
    const b = await addServer(c, 'b');
    const { token } = await c.auth.guest();
    const welcomes: Array<{ serverId: string; x: number; y: number; reason: string }> = [];
    const player = await ReconnectingClient.start({
      urls: [url(a), url(b)], token, transport: 'ws', WebSocket: NodeWebSocketImpl,
      onClient: (client, info) => welcomes.push({ serverId: client.welcome.serverId, x: client.welcome.x, y: client.welcome.y, reason: info.reason }),
    });
    reconnecting.push(player);
    const first = player.client!;
    first.move(first.welcome.x + 3, first.welcome.y + 3);
    const ack = await first.next('ack');
    const drained = a.drain(4000);
    await waitFor('the player to land on b', async () => welcomes.length === 2, 8000);
    expect(welcomes[1]).toEqual({ serverId: 'b', x: ack.x, y: ack.y, reason: 'draining' });
    await drained;
    expect(a.saves.backlog).toBe(0);
  });
});
