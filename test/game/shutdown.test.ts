import { describe, expect, it } from 'vitest';
import { GameClient, GameClientError } from '../../client/game-client.ts';
import { connectNodeWebSocket, installNodeWebRtc, NodeWebSocketImpl } from '../../client/node.ts';
import { SERVER_MAIN, startGameServer } from '../../scripts/lib/game-server.ts';

installNodeWebRtc();

describe('shutdown', () => {
  it('SIGTERM: not ready at once, players told to reconnect, exit 0 within MMO_DRAIN_SECONDS', async () => {
    const drainSeconds = 4;
    const server = await startGameServer({ env: { MMO_DRAIN_SECONDS: String(drainSeconds) } });
    try {
      const ready = `http://127.0.0.1:${server.ports.health}/health/ready`;
      expect((await fetch(ready)).status).toBe(200);
      const tcp = await GameClient.connect({ url: server.url, token: await server.token(), transport: 'ws', WebSocket: NodeWebSocketImpl });
      const udp = await GameClient.connect({ url: server.url, token: await server.token(), transport: 'udp' });
      const notices = Promise.all([tcp.next('reconnect', 3000), udp.next('reconnect', 3000)]);
      // A newcomer with a valid token, taken before the drain: only the drain can turn it away.
      const newcomer = await server.token();

      const signalled = performance.now();
      server.process.kill('SIGTERM');
      // Readiness drops as soon as the process handles the signal, first thing in the drain.
      // A probe that reached the process before the signal was handled may still be answered 200, so
      // the bound is a count of probes (each needs a turn of the server's event loop), not a clock.
      let status = 0;
      for (let i = 0; i < 20 && status !== 503; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 10));
        status = (await fetch(ready)).status;
      }
      expect(status).toBe(503);
      const body = (await (await fetch(ready)).json()) as { reasons: string[] };
      expect(body.reasons).toContain('draining');

      // New players are turned away by the drain: 503 on the WebSocket upgrade (or, for a hello
      // already under way, the error code draining). Connected ones are told to reconnect elsewhere.
      const refused = await GameClient.connect({ url: server.url, token: newcomer, transport: 'ws', openWebSocket: connectNodeWebSocket, attempts: 1 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(GameClientError);
      const refusal = refused as GameClientError;
      expect(refusal.code === 'draining' || (refusal.code === 'connect_failed' && /failed to open: Unexpected server response: 503$/.test(refusal.message)), `${refusal.code}: ${refusal.message}`).toBe(true);
      for (const notice of await notices) {
        expect(notice.reason).toBe('draining');
        expect(notice.afterMs).toBeLessThanOrEqual(2000);
      }
      // These players stay connected (the worst case): the process must still leave in time.
      const code = await server.exited;
      const took = performance.now() - signalled;
      expect(code).toBe(0);
      expect(took).toBeLessThan(drainSeconds * 1000);
      expect(server.logs.some((l) => l.msg === 'draining')).toBe(true);
      tcp.close();
      udp.close();
    } finally {
      await server.stop();
    }
  });

  it('leaves as soon as the last player has gone', async () => {
    const server = await startGameServer({ env: { MMO_DRAIN_SECONDS: '30' } });
    try {
      const c = await GameClient.connect({ url: server.url, token: await server.token(), transport: 'ws', WebSocket: NodeWebSocketImpl });
      c.on('reconnect', () => c.close()); // a well-behaved client reconnects elsewhere
      const signalled = performance.now();
      server.process.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(5000);
    } finally {
      await server.stop();
    }
  });
});

describe('configuration', () => {
  it.each([
    [{ MMO_TICK_RATE: 'fast' }, /^invalid configuration: MMO_TICK_RATE: expected an integer from 1 to 120, got "fast"$/],
    [{ MMO_ZONES: '0,9' }, /^invalid configuration: MMO_ZONES: zone 9 does not exist/],
    [{ DATABASE_URL: 'mysql://x' }, /^invalid configuration: DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\//],
  ])('a bad value (%o) stops the server with one line naming the variable, exit 2', async (env, message) => {
    const { spawn } = await import('node:child_process');
    const proc = spawn(process.execPath, [SERVER_MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise((r) => proc.on('exit', r));
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(stdout).toBe('');
  });
});
