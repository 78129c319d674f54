/**
 * Node-only setup for GameClient: WebRTC for geckos.io from node-datachannel's polyfill, and the
 * `ws` package as WebSocket implementation (faster than Node's built-in one for many sockets).
 * Never import this from browser code.
 */
import polyfill from 'node-datachannel/polyfill';
import { WebSocket as NodeWebSocket } from 'ws';
import type { WebSocketConstructor } from './transport.ts';

/** Puts RTCPeerConnection, RTCSessionDescription and RTCIceCandidate on globalThis (idempotent). */
export function installNodeWebRtc(): void {
  const g = globalThis as Record<string, unknown>;
  g.RTCPeerConnection ??= polyfill.RTCPeerConnection;
  g.RTCSessionDescription ??= polyfill.RTCSessionDescription;
  g.RTCIceCandidate ??= polyfill.RTCIceCandidate;
}

/** The `ws` package's WebSocket, typed as the DOM constructor GameClient accepts. */
export const NodeWebSocketImpl = NodeWebSocket as unknown as WebSocketConstructor;
