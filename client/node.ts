/**
 * Node-only setup for GameClient: WebRTC for geckos.io from node-datachannel's polyfill, and the
 * `ws` package as WebSocket implementation (faster than Node's built-in one for many sockets).
 * Never import this from browser code.
 */
import polyfill from 'node-datachannel/polyfill';
import { WebSocket as NodeWebSocket } from 'ws';
import { ConnectError, webSocketUrl, type ServerLink, type WebSocketConstructor } from './link.ts';

/** Puts RTCPeerConnection, RTCSessionDescription and RTCIceCandidate on globalThis (idempotent). */
export function installNodeWebRtc(): void {
  const g = globalThis as Record<string, unknown>;
  g.RTCPeerConnection ??= polyfill.RTCPeerConnection;
  g.RTCSessionDescription ??= polyfill.RTCSessionDescription;
  g.RTCIceCandidate ??= polyfill.RTCIceCandidate;
}

/** The `ws` package's WebSocket, typed as the DOM constructor GameClient accepts. */
export const NodeWebSocketImpl = NodeWebSocket as unknown as WebSocketConstructor;

/**
 * Opens a WebSocket link on the `ws` package directly (for GameClient's `openWebSocket`):
 * frames arrive as Buffers without the DOM event layer's MessageEvent and ArrayBuffer copy, no
 * compression is offered and incoming bytes are not UTF-8 checked (the protocol is binary). For
 * Node processes holding thousands of sockets, such as the load generator.
 */
export function connectNodeWebSocket(serverUrl: string, timeoutMs: number): Promise<ServerLink> {
  return new Promise((resolve, reject) => {
    const socket = new NodeWebSocket(webSocketUrl(serverUrl), { perMessageDeflate: false, skipUTF8Validation: true });
    socket.binaryType = 'nodebuffer';
    let open = false;
    let closed = false;
    const timer = setTimeout(() => {
      if (open) return;
      socket.terminate();
      reject(new ConnectError('ws', `WebSocket to ${serverUrl} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    const link: ServerLink = {
      kind: 'ws',
      send(frame) {
        if (socket.readyState === NodeWebSocket.OPEN) socket.send(frame, { binary: true, compress: false, fin: true });
      },
      close() {
        socket.close();
      },
      onFrame: () => {},
      onClose: () => {},
    };
    socket.on('open', () => {
      open = true;
      clearTimeout(timer);
      resolve(link);
    });
    socket.on('message', (data, isBinary) => {
      // Text frames are not part of the protocol: ignored. One binary frame is one Buffer here.
      if (isBinary) link.onFrame(data as Buffer);
    });
    socket.on('error', (err) => {
      if (open) return; // 'close' follows
      clearTimeout(timer);
      reject(new ConnectError('ws', `WebSocket to ${serverUrl} failed to open: ${err.message}`, { cause: err }));
    });
    socket.on('close', (code, reason) => {
      if (!open) {
        clearTimeout(timer);
        reject(new ConnectError('ws', `WebSocket to ${serverUrl} closed before opening (${code})`));
        return;
      }
      if (closed) return;
      closed = true;
      link.onClose(`ws closed ${code}${reason.length ? ` ${reason.toString()}` : ''}`);
    });
  });
}
