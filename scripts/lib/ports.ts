/**
 * Ports nothing uses right now, chosen by the kernel on loopback: what the services, the rig and
 * the game servers the tests and benchmarks start bind to. Another process may take one before it
 * is bound; the callers that care retry.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port nothing listens on right now. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A UDP port nothing is bound to right now. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
