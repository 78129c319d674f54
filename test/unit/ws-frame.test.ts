import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { binaryFrame } from '../../server/src/transports/ws.ts';

const SIZES = [0, 1, 125, 126, 127, 1000, 65535, 65536, 70000];
const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);

describe('binaryFrame (server game frames written straight to the socket)', () => {
  it('uses the 7-bit, 16-bit and 64-bit length forms of RFC 6455 at their limits', () => {
    expect([...binaryFrame(payload(125)).subarray(0, 2)]).toEqual([0x82, 125]);
    const mid = binaryFrame(payload(126));
    expect([mid[0], mid[1], mid.readUInt16BE(2), mid.length]).toEqual([0x82, 126, 126, 130]);
    const big = binaryFrame(payload(65536));
    expect([big[0], big[1], big.readUInt32BE(2), big.readUInt32BE(6), big.length]).toEqual([0x82, 127, 0, 65536, 65546]);
    expect([...binaryFrame(payload(1000)).subarray(4)]).toEqual([...payload(1000)]);
  });

  const http = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  afterAll(() => {
    wss.close();
    http.close();
  });

  it('reach a real ws client as the same binary messages, in order, between ws-sent ones', async () => {
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(Buffer.from('first'), { binary: true });
        for (const n of SIZES) (socket as Socket).write(binaryFrame(payload(n)));
        ws.send(Buffer.from('last'), { binary: true });
      }),
    );
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    const got: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(true);
        got.push(data as Buffer);
        if (got.length === SIZES.length + 2) resolve();
      });
      client.on('error', reject);
    });
    client.close();
    expect(got[0]!.toString()).toBe('first');
    expect(got.at(-1)!.toString()).toBe('last');
    SIZES.forEach((n, i) => expect(Buffer.compare(got[i + 1]!, Buffer.from(payload(n)))).toBe(0));
  });
});
