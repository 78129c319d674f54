/**
 * WebSocket players at /ws on the game HTTP server. Binary frames only; text frames and frames
 * larger than the protocol allows are answered with error codes by the session, and frames beyond
 * 64 KiB are cut off by the WebSocket layer itself (close code 1009).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { PATHS } from '../../../contract/ports.ts';
import type { Gateway } from './gateway.ts';

/** Largest frame the WebSocket layer reads before closing; the codec's own limit is far lower. */
const MAX_PAYLOAD = 64 * 1024;
const SEND_OPTIONS = { binary: true, compress: false, fin: true } as const;

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
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  };
  const accept = (ws: WebSocket, req: IncomingMessage): void => {
    const session = gateway.open({
      transport: 'ws',
      remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
      // ws may queue the bytes: copy them (Buffer.from uses Node's pool for small frames, cheaper
      // than a fresh zeroed array).
      send: (frame) => ws.send(Buffer.from(frame), SEND_OPTIONS),
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
