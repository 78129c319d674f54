/**
 * WebSocket players at /ws on the game HTTP server. Binary frames only; text frames and frames
 * larger than the protocol allows are answered with error codes by the session, and frames beyond
 * 64 KiB are cut off by the WebSocket layer itself (close code 1009).
 *
 * `ws` runs the handshake, reads frames and handles control frames and closes. Outgoing game frames
 * (one per connection per flush, most of what the server does) are framed here and written to the
 * socket in one `write`: ws' sender would cork the socket, write the header and the payload
 * separately and uncork, about twice the JavaScript per frame. Both write whole frames
 * synchronously (the server negotiates no compression, so ws never queues), so frames never
 * interleave, and nothing is written once ws has started closing.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { PATHS } from '../../../contract/ports.ts';
import type { Gateway } from '../gateway/gateway.ts';

/** Largest frame the WebSocket layer reads before closing; the codec's own limit is far lower. */
const MAX_PAYLOAD = 64 * 1024;

/**
 * One unmasked, final, binary WebSocket frame (RFC 6455 §5.2) holding `payload`, in one buffer.
 * Small frames come from Node's buffer pool.
 */
export function binaryFrame(payload: Uint8Array): Buffer {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + n);
  out[0] = 0x82; // FIN + opcode 2 (binary)
  if (header === 2) out[1] = n;
  else if (header === 4) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  out.set(payload, header);
  return out;
}

export interface WebSocketTransport {
  /** Closes every player connection and stops accepting upgrades. */
  close(): Promise<void>;
}

export function attachWebSocket(server: Server, gateway: Gateway): WebSocketTransport {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false, clientTracking: true });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== PATHS.websocket) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (gateway.draining) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req, socket as Socket));
  };
  const accept = (ws: WebSocket, req: IncomingMessage, socket: Socket): void => {
    const session = gateway.open({
      transport: 'ws',
      remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
      // The frame is built in a new buffer, so the session's buffer is free again at once.
      send: (frame) => {
        if (ws.readyState === WebSocket.OPEN) socket.write(binaryFrame(frame));
      },
      close: () => ws.close(),
      bufferedAmount: () => ws.bufferedAmount,
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return session.onFrame(String(data));
      session.onFrame(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    });
    ws.on('close', (code) => session.closed(`ws ${code}`));
    ws.on('error', () => ws.terminate()); // e.g. an oversized frame; 'close' follows
  };
  server.on('upgrade', onUpgrade);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
