import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GameClient, GameClientError } from '../../client/game-client.ts';
import NodeWebSocket from 'ws';
import { installNodeWebRtc, NodeWebSocketImpl } from '../../client/node.ts';
import { PROTOCOL_VERSION, decodeServerFrame, encodeClientMessage, readSnapshotEntity, type ServerMessage, type SnapshotMessage } from '../../protocol/codec.ts';
import { connectWebSocket } from '../../client/link.ts';
import { METRICS } from '../../contract/metrics.ts';
import { startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';
import { waitFor } from '../../scripts/lib/wait.ts';

installNodeWebRtc();

let server: GameServer;
const clients: GameClient[] = [];

// One small zone, so everyone is within everyone's interest radius.
beforeAll(async () => {
  server = await startGameServer({ env: { MMO_ZONE_COUNT: '2', MMO_ZONES: '*', MMO_ZONE_SIZE: '64', MMO_INTEREST_RADIUS: '150' } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

async function connect(transport: 'ws' | 'udp'): Promise<GameClient> {
  const c = await GameClient.connect({ url: server.url, token: await server.token(), transport, WebSocket: NodeWebSocketImpl, connectTimeoutMs: 8000 });
  clients.push(c);
  return c;
}

function ids(s: SnapshotMessage): number[] {
  const e = { id: 0, x: 0, y: 0, hp: 0, flags: 0 };
  return Array.from({ length: s.count }, (_, i) => readSnapshotEntity(s, i, e).id);
}

/** Puts both players in zone 0 (spawns are random among owned zones). */
async function toZoneZero(c: GameClient): Promise<void> {
  c.join(0);
  await c.next('joined', 5000, (m) => m.zone === 0);
}

describe('players over WebSocket and UDP', () => {
  let tcp: GameClient;
  let udp: GameClient;

  beforeAll(async () => {
    [tcp, udp] = await Promise.all([connect('ws'), connect('udp')]);
    await Promise.all([toZoneZero(tcp), toZoneZero(udp)]);
  });

  it('connect over the transport they asked for and are welcomed with the world settings', () => {
    expect(tcp.kind).toBe('ws');
    expect(udp.kind).toBe('udp');
    for (const c of [tcp, udp]) {
      expect(c.welcome).toMatchObject({ version: PROTOCOL_VERSION, zoneCount: 2, zoneSize: 64, interestRadius: 150, hp: 100, maxHp: 100 });
    }
    expect(tcp.welcome.playerId).not.toBe(udp.welcome.playerId);
  });

  it('see each other across transports, with names announced to newcomers', async () => {
    const seenByTcp = await tcp.next('snapshot', 5000, (s) => ids(s).includes(udp.welcome.playerId));
    const seenByUdp = await udp.next('snapshot', 5000, (s) => ids(s).includes(tcp.welcome.playerId));
    expect(ids(seenByTcp)).toContain(tcp.welcome.playerId);
    expect(ids(seenByUdp)).toContain(udp.welcome.playerId);
    // A newcomer learns the names of everyone in view before (or with) the snapshot that shows them.
    const late = await connect('ws');
    const names = new Map<number, string>();
    late.on('appear', (m) => names.set(m.id, m.name));
    await toZoneZero(late);
    await late.next('snapshot', 5000, (s) => ids(s).includes(tcp.welcome.playerId) && ids(s).includes(udp.welcome.playerId));
    expect(names.get(tcp.welcome.playerId)).toBe(tcp.welcome.name);
    expect(names.get(udp.welcome.playerId)).toBe(udp.welcome.name);
    late.close();
  });

  it('move with authoritative acks and see the other player move', async () => {
    for (const [c, other] of [[tcp, udp], [udp, tcp]] as const) {
      const target = { x: 10 + Math.random() * 40, y: 10 + Math.random() * 40 };
      const seq = c.move(target.x, target.y);
      const ack = await c.next('ack', 5000, (a) => a.seq === seq);
      expect(ack.x).toBeCloseTo(target.x, 3);
      expect(ack.y).toBeCloseTo(target.y, 3);
      expect(c.lastRttMs).toBeGreaterThan(0);
      const e = { id: 0, x: 0, y: 0, hp: 0, flags: 0 };
      await other.next('snapshot', 5000, (s) => {
        for (let i = 0; i < s.count; i++) {
          readSnapshotEntity(s, i, e);
          if (e.id === c.welcome.playerId && Math.abs(e.x - target.x) < 0.01 && Math.abs(e.y - target.y) < 0.01) return true;
        }
        return false;
      });
    }
  });

  it('chat in the zone and globally across transports', async () => {
    const zoneMsg = udp.next('chat', 5000, (m) => m.text === 'hello from tcp');
    tcp.chat('zone', 'hello from tcp');
    expect(await zoneMsg).toMatchObject({ channel: 'zone', fromId: tcp.welcome.playerId, fromName: tcp.welcome.name });
    const globalMsg = tcp.next('chat', 5000, (m) => m.text === 'hello everyone, über UDP');
    udp.chat('global', 'hello everyone, über UDP');
    expect(await globalMsg).toMatchObject({ channel: 'global', fromId: udp.welcome.playerId });
  });

  it('fight: hits reach both sides, cooldowns are enforced', async () => {
    const hit = udp.next('combat', 5000, (m) => m.kind === 'hit');
    tcp.attack(udp.welcome.playerId, 'bolt');
    expect(await hit).toMatchObject({ attacker: tcp.welcome.playerId, target: udp.welcome.playerId, skill: 'bolt', damage: 7 });
    const refusal = tcp.next('error');
    tcp.attack(udp.welcome.playerId, 'bolt');
    expect(await refusal).toMatchObject({ name: 'cooldown' });
  });

  it('measure round trips with ping on both transports', async () => {
    for (const c of [tcp, udp]) {
      const rtt = await c.ping();
      expect(rtt).toBeGreaterThan(0);
      expect(rtt).toBeLessThan(5000);
    }
  });

  it('answers the same hello repeated on a connection with the welcome again, and refuses another', async () => {
    // UDP clients resend their hello until welcomed (the first can be lost on the unreliable channel).
    const token = await server.token();
    const c = await GameClient.connect({ url: server.url, token, transport: 'ws', WebSocket: NodeWebSocketImpl, connectTimeoutMs: 8000 });
    clients.push(c);
    const again = c.next('welcome', 5000);
    c.sendRaw(encodeClientMessage({ type: 'hello', version: PROTOCOL_VERSION, token }));
    expect((await again).playerId).toBe(c.welcome.playerId);
    const refused = c.next('error', 5000);
    c.sendRaw(encodeClientMessage({ type: 'hello', version: PROTOCOL_VERSION, token: await server.token() }));
    expect((await refused).name).toBe('already_authenticated');
  });

  it('refuses a client of the previous protocol version with an error that names both versions', async () => {
    const link = await connectWebSocket(server.url, 5000, NodeWebSocketImpl);
    const answer = new Promise<ServerMessage[]>((resolve) => {
      link.onFrame = (frame) => {
        const messages = decodeServerFrame(frame);
        if (Array.isArray(messages)) resolve(messages);
      };
    });
    link.send(encodeClientMessage({ type: 'hello', version: PROTOCOL_VERSION - 1, token: await server.token() }));
    const [refusal] = await answer;
    link.close();
    expect(refusal).toMatchObject({ type: 'error', name: 'bad_version' });
    expect(refusal!.type === 'error' && refusal.message).toBe(
      `this client speaks protocol ${PROTOCOL_VERSION - 1}, this server speaks ${PROTOCOL_VERSION}: update the client (reload the page)`,
    );
  });

  it('refuses a bad token with a stable error code', async () => {
    const attempt = GameClient.connect({ url: server.url, token: 'not-a-token', transport: 'ws', WebSocket: NodeWebSocketImpl });
    await expect(attempt).rejects.toBeInstanceOf(GameClientError);
    await expect(attempt).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it('keeps one session per account: a second login replaces the first', async () => {
    const token = await server.token();
    const first = await GameClient.connect({ url: server.url, token, transport: 'ws', WebSocket: NodeWebSocketImpl });
    clients.push(first);
    // Generous: the second login may need a WebRTC retry on a loaded machine.
    const kicked = first.next('error', 20_000, (m) => m.name === 'session_replaced');
    const second = await GameClient.connect({ url: server.url, token, transport: 'udp', connectTimeoutMs: 8000 });
    clients.push(second);
    await kicked;
    await first.closed;
    expect(second.welcome.name).toBe(first.welcome.name);
  });

  it('reports players, messages and ticks on /metrics with the contract names only', async () => {
    // Active players are sampled every second: wait (bounded) until a sample counts the players of
    // both transports connected above, rather than hoping one has been taken after a fixed time.
    let text = '';
    await waitFor(
      () => `active players on both transports in /metrics:\n${text.split('\n').filter((l) => l.startsWith('game_server_active_players')).join('\n')}`,
      async () => {
        text = await (await fetch(`http://127.0.0.1:${server.ports.metrics}/metrics`)).text();
        return /game_server_active_players\{zone="0",transport="ws"\} [1-9]/.test(text) && /game_server_active_players\{zone="0",transport="udp"\} [1-9]/.test(text);
      },
      10_000,
    );
    const names = new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));
    expect(names).toEqual(new Set(Object.values(METRICS).map((m) => m.name)));
    expect(text).toMatch(/game_server_active_players\{zone="0",transport="ws"\} [1-9]/);
    expect(text).toMatch(/game_server_active_players\{zone="0",transport="udp"\} [1-9]/);
    expect(text).toMatch(/game_server_messages_received_total\{type="move",transport="udp"\} [1-9]/);
    expect(text).toMatch(/game_server_tick_duration_seconds_count [1-9]/);
    const version = (await (await fetch(`http://127.0.0.1:${server.ports.metrics}/version`)).json()) as Record<string, unknown>;
    expect(version).toMatchObject({ protocol: PROTOCOL_VERSION, node: process.version });
    const ready = await fetch(`http://127.0.0.1:${server.ports.health}/health/ready`);
    expect(ready.status).toBe(200);
  });

  it('counts players leaving by reason: a closed game as left, a broken connection as lost', async () => {
    const count = async (reason: string) => {
      const text = await (await fetch(`http://127.0.0.1:${server.ports.metrics}/metrics`)).text();
      return Number(new RegExp(`^game_server_disconnects_total\\{transport="ws",reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    };
    const [left0, lost0] = [await count('left'), await count('lost')];
    expect([left0, lost0].every(Number.isFinite)).toBe(true);

    const leaving = await connect('ws');
    leaving.close();
    await leaving.closed;
    // A socket cut without a close frame, as when a player's network drops.
    const sockets: { terminate(): void }[] = [];
    const Capturing = class extends (NodeWebSocket as unknown as new (...a: unknown[]) => { terminate(): void }) {
      constructor(...args: unknown[]) {
        super(...args);
        sockets.push(this);
      }
    };
    const dropped = await GameClient.connect({ url: server.url, token: await server.token(), transport: 'ws', WebSocket: Capturing as never, connectTimeoutMs: 8000 });
    clients.push(dropped);
    sockets.at(-1)!.terminate();

    await waitFor('the lost connection counted', async () => (await count('lost')) === lost0 + 1, 10_000);
    expect(await count('left')).toBe(left0 + 1);
  });
});
