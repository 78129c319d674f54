/**
 * UDP players: geckos.io (WebRTC data channels) signalled over the game HTTP server, data on one
 * pinned UDP port. When an announce address is configured, the address in every host ICE candidate
 * is rewritten to it, so players outside the cluster send to the node's external address.
 */
import type { Server } from 'node:http';
import geckos, { type ServerChannel } from '@geckos.io/server';
// The channel class itself (the package index exports only its type); see guardClosedChannels.
import GeckosChannel from '@geckos.io/server/lib/geckos/channel.js';
import type { Logger } from '../log.ts';
import type { Gateway } from './gateway.ts';

export interface UdpOptions {
  /** The pinned UDP port; 0 lets the OS choose. */
  readonly port: number;
  /** Interface address to bind, or undefined for all. */
  readonly bindAddress: string | undefined;
  readonly announceAddress: string | undefined;
  readonly iceServers: readonly RTCIceServer[];
}

export interface UdpTransport {
  /** Closes every channel. */
  close(): Promise<void>;
}

const HOST_CANDIDATE = /(candidate:\S+ \d+ (?:udp|UDP) \d+ )(\S+)( \d+ typ host)/g;

/** Rewrites the address of every host candidate in an SDP blob or candidate line. */
export function announceCandidates(text: string, address: string): string {
  return text.replace(HOST_CANDIDATE, (_m, before: string, _addr: string, after: string) => `${before}${address}${after}`);
}

interface ConnectionsManager {
  createConnection(...args: unknown[]): Promise<{ status: number; connection?: { localDescription?: { sdp?: string } } }>;
  getConnection(id: string): { additionalCandidates?: Array<{ candidate: string }> } | undefined;
}

/**
 * geckos.io 3.1.0 sets `channel.dataChannel = null` when a connection closes, but callbacks that
 * libdatachannel runs later (the channel opening after a client gave up, the peer connection
 * reaching "connected") still call methods on it; a TypeError thrown inside a native callback
 * aborts the whole process (seen with bursts of UDP connects that time out). Closed channels get
 * an inert stand-in instead of null, so those late callbacks do nothing.
 */
const CLOSED_DATA_CHANNEL = Object.freeze({
  onOpen: () => {},
  onMessage: () => {},
  onClosed: () => {},
  onError: () => {},
  onBufferedAmountLow: () => {},
  close: () => {},
  isOpen: () => false,
  maxMessageSize: () => 0,
  bufferedAmount: () => 0,
  sendMessage: () => false,
  sendMessageBinary: () => false,
  getLabel: () => '',
});
let channelGuardInstalled = false;
function guardClosedChannels(): void {
  if (channelGuardInstalled) return;
  channelGuardInstalled = true;
  const real = new WeakMap<object, unknown>();
  Object.defineProperty(GeckosChannel.prototype, 'dataChannel', {
    configurable: true,
    get(this: object) {
      return real.get(this) ?? CLOSED_DATA_CHANNEL;
    },
    set(this: object, value: unknown) {
      if (value) real.set(this, value);
      else real.delete(this);
    },
  });
}

export function attachUdp(server: Server, gateway: Gateway, options: UdpOptions, log: Logger): UdpTransport {
  guardClosedChannels();
  const io = geckos({
    ...(options.port > 0 ? { portRange: { min: options.port, max: options.port } } : {}),
    iceServers: options.iceServers as RTCIceServer[],
    ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
    cors: { origin: '*', allowAuthorization: false },
  });
  const manager = (io as unknown as { connectionsManager: ConnectionsManager }).connectionsManager;
  const create = manager.createConnection.bind(manager);
  manager.createConnection = async (...args: unknown[]) => {
    // Refuse signaling while draining or full: the client falls back or retries elsewhere.
    if (gateway.draining || gateway.full()) return { status: 503 };
    const result = await create(...args);
    const desc = result.connection?.localDescription;
    if (options.announceAddress && desc?.sdp) desc.sdp = announceCandidates(desc.sdp, options.announceAddress);
    return result;
  };
  if (options.announceAddress) {
    const get = manager.getConnection.bind(manager);
    const address = options.announceAddress;
    manager.getConnection = (id: string) => {
      const c = get(id);
      if (c?.additionalCandidates) for (const cand of c.additionalCandidates) cand.candidate = announceCandidates(cand.candidate, address);
      return c;
    };
  }
  const channels = new Set<ServerChannel>();
  io.onConnection((channel) => {
    channels.add(channel);
    const dc = (channel as unknown as { dataChannel?: { bufferedAmount?: () => number } }).dataChannel;
    const session = gateway.open({
      transport: 'udp',
      remote: channel.id ?? '?',
      // geckos sends on a later microtask: hand it a copy.
      send: (frame) => channel.raw.emit(Buffer.from(frame)),
      // geckos sends on a later microtask and closing drops whatever is still queued: give the
      // last frame (a kick's error, a reconnect notice) time to leave first.
      close: () => {
        setTimeout(() => void channel.close().catch(() => {}), 200).unref();
      },
      bufferedAmount: () => {
        try {
          return dc?.bufferedAmount?.() ?? 0;
        } catch {
          return 0;
        }
      },
    });
    channel.onRaw((data) => {
      if (typeof data === 'string') return session.onFrame(data);
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      session.onFrame(bytes);
    });
    // Also fires when a client sends the JSON event "disconnect": closing again is harmless.
    channel.onDisconnect(() => {
      channels.delete(channel);
      session.closed('udp disconnect');
    });
  });
  io.addServer(server);
  log.debug('udp transport attached', { port: options.port, announce: options.announceAddress ?? null });
  return {
    close: async () => {
      await Promise.allSettled([...channels].map((c) => c.close()));
    },
  };
}
