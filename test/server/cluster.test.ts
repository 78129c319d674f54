// Two game server processes sharing PostgreSQL, Redis and RabbitMQ: chat and whispers cross
// processes, a zone transfer moves a player exactly once, a second login kicks the first, and login
// throttling counts a brute force spread over both as one.
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GameClient, GameClientTransfer } from '../../client/game-client.ts';
import { NodeWebSocketImpl } from '../../client/node.ts';
import type { InventoryMessage } from '../../protocol/codec.ts';
import type { GameServer } from '../../scripts/lib/game-server.ts';
import { waitFor } from '../../scripts/lib/wait.ts';
import { clusterEnv, startReady, type ClusterEnv } from './game-cluster.ts';

const ADMIN = 'cluster-admin-token-0123456789';
const clients: GameClient[] = [];
const connect = async (url: string, token: string) => {
  const c = await GameClient.connect({ url, token, transport: 'ws', WebSocket: NodeWebSocketImpl, connectTimeoutMs: 10_000, attempts: 1 });
  clients.push(c);
  return c;
};
/** How many of this file's clients are still connected to `serverId` in `zone`. */
const openOn = (serverId: string, zone: number) =>
  clients.filter((c) => c.closedReason === undefined && c.welcome.serverId === serverId && c.welcome.zone === zone).length;
const inventoryOf = (c: GameClient) => new Promise<InventoryMessage>((resolve) => c.on('inventory', resolve));

async function register(server: GameServer, username: string): Promise<string> {
  const res = await fetch(`${server.url}/auth/register`, { method: 'POST', body: JSON.stringify({ username, password: `password-${username}` }) });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`register ${username}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** Sums `name` (with matching labels) on a process's /metrics. */
async function metric(server: GameServer, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.ports.metrics}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(labels)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

describe('two processes sharing PostgreSQL, Redis and RabbitMQ', () => {
  let cluster: ClusterEnv;
  let a: GameServer;
  let b: GameServer;
  beforeAll(async () => {
    cluster = await clusterEnv();
    const env = { ...cluster.env, MMO_ZONE_COUNT: '2', MMO_UDP_ENABLED: 'false', MMO_ADMIN_TOKEN: ADMIN };
    a = await startReady({ ...env, MMO_SERVER_ID: 'cluster-a', MMO_ZONES: '0' });
    b = await startReady({ ...env, MMO_SERVER_ID: 'cluster-b', MMO_ZONES: '1' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await a?.stop();
    await b?.stop();
    await cluster?.dispose();
  });

  it('global chat from A and an admin broadcast reach a player on B; a whisper finds its player on the other process', async () => {
    const ann = await connect(a.url, await register(a, 'ann'));
    const bob = await connect(b.url, await register(b, 'bob'));
    expect([ann.welcome.serverId, bob.welcome.serverId]).toEqual(['cluster-a', 'cluster-b']);

    const heard = bob.next('chat', 5000, (m) => m.channel === 'global');
    ann.chat('global', 'hello from A');
    expect(await heard).toMatchObject({ channel: 'global', fromName: 'ann', text: 'hello from A' });

    const whispered = bob.next('chat', 5000, (m) => m.channel === 'whisper');
    ann.whisper('bob', 'psst, bob');
    expect(await whispered).toMatchObject({ fromName: 'ann', text: 'psst, bob' });
    const back = ann.next('chat', 5000, (m) => m.channel === 'whisper');
    bob.whisper('ann', 'hi ann');
    expect(await back).toMatchObject({ fromName: 'bob', text: 'hi ann' });

    const announced = Promise.all([ann, bob].map((p) => p.next('chat', 5000, (m) => m.fromName === 'server')));
    const res = await fetch(`http://127.0.0.1:${b.ports.metrics}/admin/broadcast`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ text: 'restart in 5 minutes' }),
    });
    expect(res.status).toBe(202);
    expect((await announced).map((m) => m.text)).toEqual(['restart in 5 minutes', 'restart in 5 minutes']);

    // Both processes count their players into Redis (every 5 s): either one answers for the cluster.
    const online = async (s: GameServer) => (await fetch(`http://127.0.0.1:${s.ports.metrics}/admin/online`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
    const expected = { total: 2, byZone: { '0': 1, '1': 1 } };
    let seen: unknown;
    await waitFor(() => `/admin/online on A to count ann on A and bob on B (last: ${JSON.stringify(seen)})`, async () => isDeepStrictEqual((seen = await online(a)), expected), 15_000);
    expect(await online(b)).toEqual(expected);
  });

  it('a zone transfer moves a player from A to B with no duplicate and no loss', async () => {
    const token = await register(a, 'traveller');
    const player = await connect(a.url, token);
    expect(player.welcome).toMatchObject({ serverId: 'cluster-a', zone: 0 });
    for (const item of ['ore', 'ore']) {
      const seq = player.pickup(item);
      await player.next('granted', 5000, (m) => m.seq === seq);
    }
    player.move(player.welcome.x + 4, player.welcome.y);
    await player.next('ack');
    const outBefore = await metric(a, 'game_server_zone_transfers_total', 'direction="out"');
    const inBefore = await metric(b, 'game_server_zone_transfers_total', 'direction="in"');
    // The players gauges are sampled every second: wait until they count everyone this file holds
    // open there, the traveller included, before taking them as the baseline.
    const gauges = async () => [await metric(a, 'game_server_active_players', 'zone="0"'), await metric(b, 'game_server_active_players', 'zone="1"')];
    const open = () => [openOn('cluster-a', 0), openOn('cluster-b', 1)];
    let seen: number[] = [];
    await waitFor(
      () => `the players gauges to count the open clients (A zone 0, B zone 1: ${seen.join(', ')}; expected ${open().join(', ')})`,
      async () => (seen = await gauges()).join() === open().join(),
      10_000,
    );
    const [onA, onB] = seen as [number, number];

    const transfer = player.next('transfer', 5000);
    player.join(1);
    const t = await transfer;
    expect(t.zone).toBe(1);
    expect(t.url).toBe(b.url);
    await player.closed;

    const there = await connect(t.url, token);
    const inventory = await inventoryOf(there);
    expect(there.welcome).toMatchObject({ serverId: 'cluster-b', zone: 1 });
    expect(inventory.items).toEqual([{ item: 'ore', quantity: 2 }]);
    expect(await metric(a, 'game_server_zone_transfers_total', 'direction="out"')).toBe(outBefore + 1);
    expect(await metric(b, 'game_server_zone_transfers_total', 'direction="in"')).toBe(inBefore + 1);
    // Exactly once: the handoff is spent, and A holds nobody in any zone.
    const redis = new Redis(inject('services').REDIS_URL);
    expect(await redis.keys('mmo:handoff:*')).toEqual([]);
    await redis.quit();
    // The players gauges (refreshed every second): one player less on A, one more on B.
    await waitFor('A and B to count the move', async () =>
      (await metric(a, 'game_server_active_players', 'zone="0"')) === onA - 1 && (await metric(b, 'game_server_active_players', 'zone="1"')) === onB + 1, 10_000);

    // A second connection to A is sent back to B instead of duplicating the character there.
    there.close();
    await there.closed;
    const again = await GameClient.connect({ url: a.url, token, transport: 'ws', WebSocket: NodeWebSocketImpl, attempts: 1 }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(GameClientTransfer);
    expect((again as GameClientTransfer).url).toBe(b.url);
  });

  it('a second login kicks the first with session_replaced, across processes, and keeps its state', async () => {
    const token = await register(a, 'twice');
    const first = await connect(a.url, token);
    first.move(first.welcome.x + 3, first.welcome.y + 3);
    const ack = await first.next('ack');
    const kicked = first.next('error', 10_000);
    // Zone 0 is A's: the login on B is sent back to A, where it kicks the first session.
    const second = await GameClient.connect({ url: b.url, token, transport: 'ws', WebSocket: NodeWebSocketImpl, attempts: 1 }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(GameClientTransfer);
    expect(await kicked).toMatchObject({ name: 'session_replaced' });
    await first.closed;
    const third = await connect(a.url, token);
    expect({ x: third.welcome.x, y: third.welcome.y }).toEqual({ x: ack.x, y: ack.y });
  });

  it('throttles a password brute force spread over both processes as one (5 failures per username)', async () => {
    await register(a, 'target');
    const login = (server: GameServer, password: string) =>
      fetch(`${server.url}/auth/login`, { method: 'POST', body: JSON.stringify({ username: 'target', password }) });
    const statuses = [];
    for (const [i, server] of [a, b, a, b, a].entries()) {
      const res = await login(server, `guess-${i}-xx`);
      await res.body?.cancel();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    // Each process saw 2 or 3 failures itself; together they used up the username's 5.
    for (const server of [b, a]) {
      const res = await login(server, 'password-target');
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(800);
      expect(await res.json()).toMatchObject({ error: 'rate_limited' });
    }
  });
});
