// A pickup acknowledged to the player ('granted') is committed: it survives `kill -9` of the server
// the moment the acknowledgement arrives, on the embedded PGlite (on disk) and on PostgreSQL.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GameClient } from '../../client/game-client.ts';
import { NodeWebSocketImpl } from '../../client/node.ts';
import type { InventoryMessage } from '../../protocol/codec.ts';
import { startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';
import { clusterEnv, SECRET, type ClusterEnv } from './game-cluster.ts';

const connect = (server: GameServer, token: string) =>
  GameClient.connect({ url: server.url, token, transport: 'ws', WebSocket: NodeWebSocketImpl, connectTimeoutMs: 10_000 });

async function killedRightAfterTheAck(env: Record<string, string>): Promise<void> {
  const first = await startGameServer({ env: { MMO_AUTH_SECRET: SECRET, ...env } });
  let second: GameServer | undefined;
  try {
    const token = await first.token();
    const player = await connect(first, token);
    const granted: Array<{ item: string; quantity: number }> = [];
    // Several pickups, the process killed synchronously inside the handler of the last ack.
    for (const item of ['herb', 'herb', 'ore']) {
      const seq = player.pickup(item);
      const ack = await player.next('granted', 10_000, (m) => m.seq === seq);
      granted.push({ item: ack.item, quantity: ack.quantity });
    }
    const last = player.pickup('gem');
    await new Promise<void>((resolve, reject) => {
      const off = player.on('granted', (m) => {
        if (m.seq !== last) return;
        first.process.kill('SIGKILL');
        off();
        resolve();
      });
      setTimeout(() => reject(new Error('no granted for the last pickup within 10 s')), 10_000);
    });
    expect(await first.exited).toBe('SIGKILL');
    player.close();

    second = await startGameServer({ env: { MMO_AUTH_SECRET: SECRET, ...env } });
    const again = await connect(second, token);
    const inventory = await new Promise<InventoryMessage>((resolve) => again.on('inventory', resolve));
    expect(inventory.items).toEqual([
      { item: 'gem', quantity: 1 },
      { item: 'herb', quantity: 2 },
      { item: 'ore', quantity: 1 },
    ]);
    expect(granted).toEqual([
      { item: 'herb', quantity: 1 },
      { item: 'herb', quantity: 2 },
      { item: 'ore', quantity: 1 },
    ]);
    again.close();
  } finally {
    await first.stop();
    await second?.stop();
  }
}

describe('a durable action acknowledged to the player survives kill -9 right after the ack', () => {
  let cluster: ClusterEnv | undefined;
  const dir = join(import.meta.dirname, '../../.tmp', `durable-${randomUUID()}`);
  afterAll(async () => {
    await cluster?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on the embedded PGlite in MMO_DATA_DIR (npm start)', { timeout: 90_000 }, async () => {
    await killedRightAfterTheAck({ MMO_DATA_DIR: dir });
  });

  it('on PostgreSQL (DATABASE_URL)', { timeout: 90_000 }, async () => {
    cluster = await clusterEnv({ redis: false, amqp: false });
    await killedRightAfterTheAck({ DATABASE_URL: cluster.databaseUrl });
  });
});
