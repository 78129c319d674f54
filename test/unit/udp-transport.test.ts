import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import GeckosChannel from '@geckos.io/server/lib/geckos/channel.js';
import nodeDataChannel from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerLink } from '../../client/link.ts';
import { connectRawUdp } from '../../client/loadtest/udp-client.ts';
import { createLogger } from '../../server/src/log.ts';
import type { Gateway } from '../../server/src/gateway/gateway.ts';
import type { Connection } from '../../server/src/gateway/session.ts';
import { attachUdp, type UdpTransport } from '../../server/src/transports/udp.ts';

// The gateway is the faked boundary: it records the frames the transport hands it. The WebRTC
// path (geckos' signalling, libdatachannel on both sides) is real, on loopback.
describe('UDP transport (geckos.io + libdatachannel, real loopback peer)', () => {
  let http: Server | undefined;
  let udp: UdpTransport | undefined;
  let client: ServerLink | undefined;
  let restore = (): void => {};
  afterAll(async () => {
    restore();
    client?.close();
    await udp?.close();
    http?.close();
    nodeDataChannel.cleanup();
  });

  it('hands the session the first frame a client sends the moment its side opens, subscribing once per channel', async () => {
    const frames: Array<Uint8Array | string> = [];
    let received: () => void = () => {};
    const firstFrame = new Promise<void>((resolve) => (received = resolve));
    const gateway = {
      draining: false,
      full: () => false,
      open: (_conn: Connection) => ({
        onFrame: (data: Uint8Array | string) => {
          frames.push(data);
          received();
        },
        closed: () => {},
      }),
    } as unknown as Gateway;
    http = createServer();
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    udp = attachUdp(http, gateway, { port: 0, bindAddress: '127.0.0.1', announceAddress: undefined, iceServers: [] }, createLogger('error', () => {}));
    // Count subscriptions to each server-side native channel: the transport keeps geckos' channel
    // objects' `dataChannel` behind an accessor; wrap its setter to instrument each native channel
    // geckos is given (its prototype's methods are read-only, an own property shadows them).
    const subscriptions = new Map<object, number>();
    const accessor = Object.getOwnPropertyDescriptor(GeckosChannel.prototype, 'dataChannel')!;
    Object.defineProperty(GeckosChannel.prototype, 'dataChannel', {
      ...accessor,
      set(this: object, native: { onMessage: (cb: unknown) => void } | null) {
        if (native && !subscriptions.has(native)) {
          const onMessage = native.onMessage;
          subscriptions.set(native, 0);
          Object.defineProperty(native, 'onMessage', {
            configurable: true,
            value(this: object, cb: unknown) {
              subscriptions.set(native, subscriptions.get(native)! + 1);
              return onMessage.call(this, cb);
            },
          });
        }
        accessor.set!.call(this, native);
      },
    });
    restore = () => Object.defineProperty(GeckosChannel.prototype, 'dataChannel', accessor);

    client = await connectRawUdp(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, 10_000);
    // Sent once, with no resend: on loopback nothing drops it, so only the server can lose it.
    client.send(Uint8Array.of(1, 2, 3));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      firstFrame,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('the frame sent as the channel opened never reached the session')), 5_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(frames.map((f) => [...(f as Uint8Array)])).toEqual([[1, 2, 3]]);

    // A second subscription to one native channel drops what node-datachannel had queued for the
    // first (a hello that arrived before the server's side opened): geckos must never subscribe.
    expect([...subscriptions.values()]).toEqual([1]);
  }, 20_000);
});
