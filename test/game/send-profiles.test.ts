// The mmo send profile against a real game server process, over WebSocket and over UDP (geckos.io):
// the welcome names it, and a moving player gets at most one frame per patch interval, its
// acknowledgements riding with its snapshots instead of travelling alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GameClient } from '../../client/game-client.ts';
import { installNodeWebRtc, NodeWebSocketImpl } from '../../client/node.ts';
import { ENV } from '../../contract/env.ts';
import { decodeServerFrame, type ServerMessage, type SnapshotMessage } from '../../protocol/codec.ts';
import { startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';

installNodeWebRtc();

const TICK_RATE = 20;
const PATCH_RATE = 10;

let server: GameServer;
const clients: GameClient[] = [];

beforeAll(async () => {
  server = await startGameServer({
    env: { [ENV.sendProfile.name]: 'mmo', [ENV.tickRate.name]: String(TICK_RATE), [ENV.patchRate.name]: String(PATCH_RATE), [ENV.zoneCount.name]: '1', [ENV.zoneSize.name]: '64' },
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

/** Every frame the client receives from now on, decoded. */
function recordFrames(c: GameClient): { messages: ServerMessage[] }[] {
  const frames: { messages: ServerMessage[] }[] = [];
  const deliver = c.link.onFrame;
  c.link.onFrame = (frame) => {
    const messages = decodeServerFrame(frame);
    if (Array.isArray(messages)) frames.push({ messages });
    deliver(frame);
  };
  return frames;
}

describe.each(['ws', 'udp'] as const)('the mmo send profile over %s', (transport) => {
  let c: GameClient;

  beforeAll(async () => {
    c = await GameClient.connect({ url: server.url, token: await server.token(), transport, WebSocket: NodeWebSocketImpl, connectTimeoutMs: 8000 });
    clients.push(c);
  });

  it('is named in the welcome, with the frame rate', () => {
    expect(c.kind).toBe(transport);
    expect(c.welcome).toMatchObject({ sendProfile: 'mmo', tickRate: TICK_RATE, patchRate: PATCH_RATE });
  });

  it('answers moves with the next snapshot: one frame per interval at most, no ack alone', async () => {
    const frames = recordFrames(c);
    const moves = 20;
    let acked = 0;
    const off = c.on('ack', () => acked++);
    // A move every 50 ms (twice per interval): under the action profile most acks would leave alone.
    for (let i = 0; i < moves; i++) {
      c.move(10 + i, 10);
      await new Promise((r) => setTimeout(r, 50));
    }
    const deadline = performance.now() + 5000;
    while (acked < moves && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    off();
    expect(acked, 'every move acknowledged').toBe(moves);
    const withAck = frames.filter((f) => f.messages.some((m) => m.type === 'ack'));
    expect(withAck.length).toBeGreaterThan(0);
    for (const f of withAck) expect(f.messages.map((m) => m.type), 'an ack travels with a snapshot').toContain('snapshot');
    expect(frames.map((f) => f.messages.filter((m) => m.type === 'snapshot').length), 'one snapshot per frame').toEqual(frames.map(() => 1));
    // At most one frame per interval, counted in the server's ticks (arrival times jitter on a busy
    // machine, and a late ticker catches up): consecutive frames' snapshots are at least
    // tickRate / patchRate ticks apart.
    const ticks = frames.map((f) => (f.messages.find((m) => m.type === 'snapshot') as SnapshotMessage).tick);
    const steps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(Math.min(...steps), `ticks between frames: ${steps.join(' ')}`).toBeGreaterThanOrEqual(TICK_RATE / PATCH_RATE);
  });
});
