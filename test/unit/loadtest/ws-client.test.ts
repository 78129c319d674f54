import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectRawWebSocket } from '../../../client/loadtest/ws-client.ts';

const SIZES = [0, 1, 125, 126, 1000, 65535, 65536, 70000];
const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);

let http: Server | undefined;
afterEach(() => http?.close());

/** A real ws server at /ws; `onClient` gets each connection. */
async function serve(onClient: (ws: WebSocket) => void): Promise<string> {
  http = createServer();
  const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false });
  wss.on('connection', onClient);
  await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

describe("the load generator's WebSocket client", () => {
  it('exchanges binary messages of every length form with a real ws server, both ways', async () => {
    const serverGot: Buffer[] = [];
    const url = await serve((ws) => {
      ws.on('message', (d: Buffer) => {
        serverGot.push(d);
        ws.send(d); // echo
      });
      ws.send('text is ignored');
    });
    const t = await connectRawWebSocket(url, 5000);
    const got: Uint8Array[] = [];
    const all = new Promise<void>((resolve) => {
      t.onFrame = (f) => {
        got.push(Buffer.from(f));
        if (got.length === SIZES.length) resolve();
      };
    });
    for (const n of SIZES) t.send(payload(n));
    await all;
    SIZES.forEach((n, i) => {
      expect(Buffer.compare(serverGot[i]!, Buffer.from(payload(n)))).toBe(0);
      expect(Buffer.compare(Buffer.from(got[i]!), Buffer.from(payload(n)))).toBe(0);
    });
    const closed = new Promise<string>((r) => (t.onClose = r));
    t.close();
    expect(await closed).toMatch(/closed/);
  });

  it('answers pings, reassembles fragments, and reports the close the server starts', async () => {
    let pong = false;
    const url = await serve((ws) => {
      ws.on('pong', () => {
        pong = true;
        ws.send(Buffer.from('ab'), { fin: false });
        ws.send(Buffer.from('cd'), { fin: true });
        setTimeout(() => ws.close(4000, 'bye'), 50);
      });
      ws.ping('hi');
    });
    const t = await connectRawWebSocket(url, 5000);
    const frames: string[] = [];
    t.onFrame = (f) => frames.push(Buffer.from(f).toString());
    const reason = await new Promise<string>((r) => (t.onClose = r));
    expect(pong).toBe(true);
    expect(frames).toEqual(['abcd']);
    expect(reason).toMatch(/closed/);
  });

  it('fails to connect with a clear error when nothing listens or the upgrade is refused', async () => {
    const url = await serve(() => {});
    await expect(connectRawWebSocket(url, 5000, '/nope')).rejects.toThrow(/upgrade refused|closed during the handshake/);
    http!.close();
    await expect(connectRawWebSocket(url, 2000)).rejects.toThrow(/ECONNREFUSED|closed/);
  });
});
