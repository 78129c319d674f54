// SIGTERM while 200 players play, on PostgreSQL, Redis and RabbitMQ: the players reconnect to a
// second process during the drain and resume where they were acknowledged; then that process is
// stopped too while they play, and after a restart every character is where its last move was
// acknowledged, holding every item it was granted. Loopback only, bounded in time.
import { afterAll, describe, expect, it } from 'vitest';
import { GameClient } from '../../client/game-client.ts';
import { NodeWebSocketImpl } from '../../client/node.ts';
import type { InventoryMessage } from '../../protocol/codec.ts';
import type { GameServer } from '../../scripts/lib/game-server.ts';
import { waitFor } from '../../scripts/lib/wait.ts';
import { quantile, Swarm, SwarmBot } from '../../scripts/lib/swarm.ts';
import { clusterEnv, startReady, terminate, type ClusterEnv } from './game-cluster.ts';

const PLAYERS = 200;
const DRAIN_SECONDS = 15;

describe('drain with 200 players', () => {
  let cluster: ClusterEnv | undefined;
  const servers: GameServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await cluster?.dispose();
  });

  it('SIGTERM: players move to a second process during the drain, and after a restart no acknowledged state is lost', { timeout: 240_000 }, async () => {
    cluster = await clusterEnv();
    const env = { ...cluster.env, MMO_DRAIN_SECONDS: String(DRAIN_SECONDS), MMO_UDP_ENABLED: 'false', MMO_MAX_PLAYERS: '1000' };
    const a = await startReady({ ...env, MMO_SERVER_ID: 'drain-a' });
    const b = await startReady({ ...env, MMO_SERVER_ID: 'drain-b' });
    servers.push(a, b);

    const tokens: string[] = [];
    for (let i = 0; i < PLAYERS; i++) tokens.push(await a.token());
    const swarm = new Swarm(tokens.map((t) => new SwarmBot(t)));
    await swarm.start([a.url, b.url], 20, { maxAttempts: 4 });
    expect(swarm.bots.every((bot) => bot.landings[0]?.serverId === 'drain-a')).toBe(true);
    swarm.play(250, 8);
    // Play until the pickups really happened (more items granted than players), however busy the machine.
    const grantedSoFar = () => swarm.bots.reduce((n, bot) => n + bot.granted, 0);
    await waitFor(`more than ${PLAYERS} items granted before the drain`, () => grantedSoFar() > PLAYERS, 60_000);

    // 1. Drain A: everyone lands on B, where A acknowledged them.
    const drainA = await terminate(a);
    expect(drainA.code).toBe(0);
    expect(drainA.ms).toBeLessThan(DRAIN_SECONDS * 1000);
    await waitFor('every player to land on drain-b', () => swarm.bots.every((bot) => bot.landings.length >= 2), 30_000);
    const moved = swarm.bots.map((bot) => bot.landings[1]!);
    expect(moved.filter((l) => l.serverId !== 'drain-b' || l.reason !== 'draining')).toEqual([]);
    expect(swarm.violations()).toEqual([]);
    const granted = grantedSoFar();
    expect(granted).toBeGreaterThan(PLAYERS);
    console.log(
      `drain of ${PLAYERS} players: ${Math.round(drainA.ms)} ms; reconnect (close → welcome) p50 ${Math.round(quantile(moved.map((l) => l.ms), 0.5))} ms, ` +
        `p95 ${Math.round(quantile(moved.map((l) => l.ms), 0.95))} ms, max ${Math.round(quantile(moved.map((l) => l.ms), 1))} ms`,
    );

    // 2. Stop B while they keep playing: it has no peer left, so its drain must save everyone.
    await new Promise((r) => setTimeout(r, 2000));
    const drainB = await terminate(b);
    expect(drainB.code).toBe(0);
    expect(drainB.ms).toBeLessThan(DRAIN_SECONDS * 1000);
    swarm.stop();
    for (const bot of swarm.bots) bot.player?.close();
    await waitFor('every player to give up reconnecting', () => swarm.bots.every((bot) => bot.player?.stopped !== undefined), 30_000);

    // 3. Restart: every character is where it was last acknowledged, with every granted item.
    const c = await startReady({ ...env, MMO_SERVER_ID: 'drain-c' });
    servers.push(c);
    for (let i = 0; i < PLAYERS; i += 20) {
      await Promise.all(
        swarm.bots.slice(i, i + 20).map(async (bot, j) => {
          const client = await GameClient.connect({ url: c.url, token: bot.token, transport: 'ws', WebSocket: NodeWebSocketImpl, connectTimeoutMs: 10_000 });
          const inventory = await new Promise<InventoryMessage>((resolve) => client.on('inventory', resolve));
          bot.verify({ x: client.welcome.x, y: client.welcome.y }, inventory.items.find((it) => it.item === 'herb')?.quantity ?? 0, `bot ${i + j} after the restart`);
          client.close();
        }),
      );
    }
    expect(swarm.violations()).toEqual([]);
    expect(swarm.bots.reduce((n, bot) => n + bot.granted, 0)).toBeGreaterThan(granted);
    // The logs name no character left unsaved.
    for (const s of [a, b]) expect(s.logs.filter((l) => l.msg === 'characters left unsaved at exit')).toEqual([]);
  });
});
