// The players' probe mmoctl runs (`status --probe-players`) against a real game server process:
// both ways in pass hop by hop, and a wrong HTTP address is named as the broken hop. (On loopback
// every announced address reaches the server; a UDP path that breaks at ICE is shown on the live rig.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probePlayers } from '../../cli/probe/players.ts';
import { startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';
import { freeTcpPort } from '../../scripts/lib/ports.ts';

let server: GameServer;

beforeAll(async () => {
  server = await startGameServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('the players\' probe', () => {
  it('joins over TCP and over UDP, plays a move on each and reports every hop', async () => {
    const r = await probePlayers({ url: server.url, udp: true, timeoutMs: 8000 });
    expect(r.ok, JSON.stringify(r, null, 2)).toBe(true);
    expect(r.probes.map((p) => [p.transport, p.hops.map((h) => h.hop)])).toEqual([
      ['ws', ['http', 'websocket', 'data']],
      ['udp', ['http', 'signalling', 'ice', 'data']],
    ]);
    expect(r.probes.every((p) => p.hops.every((h) => h.ok))).toBe(true);
  });

  it('names the HTTP hop when nothing answers at the players\' address', async () => {
    const r = await probePlayers({ url: `http://127.0.0.1:${await freeTcpPort()}`, udp: true, timeoutMs: 3000 });
    expect(r.ok).toBe(false);
    expect(r.probes.map((p) => p.transport)).toEqual(['ws', 'udp']);
    for (const p of r.probes) expect(p.hops).toEqual([expect.objectContaining({ hop: 'http', ok: false, detail: expect.stringMatching(/does not answer/) })]);
  });
});
