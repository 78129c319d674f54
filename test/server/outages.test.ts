// Outages while players are connected: Redis, then RabbitMQ, then PostgreSQL stop and start again
// under a running game server process. Each time: readiness false, the process keeps running and
// its players keep playing, one clear log line; after the restart it recovers by itself.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Services, type ServiceName } from '../../scripts/services/services.ts';
import { GameClient } from '../../client/game-client.ts';
import { NodeWebSocketImpl } from '../../client/node.ts';
import { METRICS } from '../../contract/metrics.ts';
import { metricValue, type GameServer } from '../../scripts/lib/game-server.ts';
import { waitFor } from '../../scripts/lib/wait.ts';
import { clusterEnv, isReady, startReady, type ClusterEnv } from './game-cluster.ts';

const OUTAGES: Array<[ServiceName, 'presence' | 'bus' | 'store']> = [
  ['redis', 'presence'],
  ['rabbitmq', 'bus'],
  ['postgres', 'store'],
];

async function readiness(server: GameServer): Promise<{ status: number; reasons: string[] }> {
  const res = await fetch(`http://127.0.0.1:${server.ports.health}/health/ready`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, reasons: ((await res.json()) as { reasons: string[] }).reasons };
}

describe('outages of the services under a running server', () => {
  const services = new Services();
  let cluster: ClusterEnv | undefined;
  let server: GameServer | undefined;
  const clients: GameClient[] = [];
  afterAll(async () => {
    for (const name of ['redis', 'rabbitmq', 'postgres'] as const) await services.start(name);
    for (const c of clients) c.close();
    await server?.stop();
    await cluster?.dispose();
  });

  it('Redis, then RabbitMQ, then PostgreSQL down: not ready, no crash, one log line each; back: ready again without a restart', { timeout: 300_000 }, async () => {
    expect(inject('services').DATABASE_URL).toBeTruthy();
    cluster = await clusterEnv();
    server = await startReady({ ...cluster.env, MMO_SERVER_ID: 'outage-a', MMO_UDP_ENABLED: 'false', MMO_SAVE_INTERVAL_SECONDS: '1' });
    const s = server;
    for (let i = 0; i < 3; i++) {
      clients.push(await GameClient.connect({ url: s.url, token: await s.token(), transport: 'ws', WebSocket: NodeWebSocketImpl }));
    }
    const play = async (what: string) => {
      for (const c of clients) {
        c.move(Math.min(c.welcome.zoneSize - 1, c.welcome.x + Math.random() * 5), c.welcome.y);
        await c.next('ack', 5000).catch((e: unknown) => {
          throw new Error(`${what}: a connected player got no ack: ${(e as Error).message}`);
        });
      }
    };

    for (const [service, dependency] of OUTAGES) {
      const logStart = s.logs.length;
      await services.stop(service);
      await waitFor(`readiness to drop while ${service} is down`, async () => !(await isReady(s)), 30_000);
      const down = await readiness(s);
      expect(down.status).toBe(503);
      expect(down.reasons).toContain(`${dependency} unreachable`);
      // Still running, and players connected before the outage still play.
      expect(s.process.exitCode).toBeNull();
      // No flood is shown only once the server has had the chance to flood: six save rounds into the
      // outage (MMO_SAVE_INTERVAL_SECONDS=1, the players moving so each round has states to save),
      // counted on the server's own save metrics rather than assumed from a clock. Six seconds of the
      // server's time also span a presence report (every 5 s), which must fail for the sessions to be
      // claimed again after Redis. A failed batch carries the three players' states again (failed
      // states are kept), so it adds three.
      const rounds = service === 'postgres'
        ? async () => (await metricValue(s, METRICS.storeSaveFailures.name, { kind: 'batch' })) / clients.length
        : () => metricValue(s, `${METRICS.storeSaveDuration.name}_count`, { kind: 'batch' });
      const roundsBefore = await rounds();
      let roundsSeen = 0;
      await waitFor(() => `six save rounds during the ${service} outage (saw ${roundsSeen})`, async () => {
        await play(`${service} down`);
        await new Promise((r) => setTimeout(r, 200)); // moves paced well under the server's rate limit
        roundsSeen = (await rounds()) - roundsBefore;
        return roundsSeen >= 6;
      }, 30_000);
      expect(s.process.exitCode).toBeNull();
      const during = s.logs.slice(logStart);
      const downLines = during.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(`dependency ${dependency} is down`));
      expect(downLines, `log lines during the ${service} outage:\n${during.map((l) => JSON.stringify(l)).join('\n')}`).toHaveLength(1);
      // No flood: that line (and, for the database, the one saying saves are kept for a retry), not
      // one per probe, reconnect attempt, save or player.
      const loud = during.filter((l) => l.level === 'warn' || l.level === 'error');
      expect(loud.filter((l) => l !== downLines[0] && l.msg !== 'saving characters failed: kept for the next save')).toEqual([]);

      await services.start(service);
      if (process.env.SHOW_OUTAGE_LOGS) console.log(during.map((l) => JSON.stringify(l)).join('\n'));
      await waitFor(`readiness after ${service} is back`, () => isReady(s), 60_000);
      expect(s.logs.slice(logStart).filter((l) => l.msg === `dependency ${dependency} is up`)).toHaveLength(1);
      await play(`${service} back`);
      if (service === 'redis') {
        // Redis came back empty: the players' sessions are claimed again.
        const redis = new Redis(inject('services').REDIS_URL);
        await waitFor('the sessions to be claimed again', async () => (await redis.keys('mmo:session:*')).length === clients.length, 15_000);
        await redis.quit();
      }
    }

    // Everything works again: chat crosses the bus, a pickup commits, a new player can join.
    const [first, second] = clients as [GameClient, GameClient];
    const heard = second.next('chat', 10_000, (m) => m.channel === 'global');
    first.chat('global', 'still here');
    expect((await heard).text).toBe('still here');
    const seq = first.pickup('coin');
    expect(await first.next('granted', 10_000, (m) => m.seq === seq)).toMatchObject({ item: 'coin', quantity: 1 });
    const late = await GameClient.connect({ url: s.url, token: await s.token(), transport: 'ws', WebSocket: NodeWebSocketImpl });
    clients.push(late);
    expect(late.welcome.serverId).toBe('outage-a');
    expect(s.process.exitCode).toBeNull();
  });
});
