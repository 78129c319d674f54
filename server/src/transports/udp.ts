/**
 * UDP players: geckos.io (WebRTC data channels) signalled over the game HTTP server, data on one
 * pinned UDP port. When an announce address is configured, the address in every host ICE candidate
 * is rewritten to it, so players outside the cluster send to the node's external address.
 */
import type { Server } from 'node:http';
import geckos, { type ServerChannel } from '@geckos.io/server';
// The channel class itself (the package index exports only its type); see patchGeckosChannels.
import GeckosChannel from '@geckos.io/server/lib/geckos/channel.js';
import type { Logger } from '../log.ts';
import type { Gateway } from '../gateway/gateway.ts';

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

/** The part of node-datachannel's DataChannel the transport uses. */
interface NativeDataChannel {
  isOpen(): boolean;
  sendMessageBinary(buffer: Uint8Array): boolean;
  bufferedAmount(): number;
  onMessage(cb: (msg: string | Buffer | ArrayBuffer) => void): void;
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

/** The native channel behind each geckos channel while its connection is open. */
const natives = new WeakMap<object, NativeDataChannel>();

/** The libdatachannel channel of a geckos channel; the inert stand-in once its connection closed. */
function nativeOf(channel: object): NativeDataChannel {
  return natives.get(channel) ?? CLOSED_DATA_CHANNEL;
}

/**
 * What geckos itself gets as its channel's `dataChannel`: the native channel without `onMessage`.
 * geckos subscribes to messages when the channel opens, just before it reports the connection,
 * and the transport subscribes again right after. libdatachannel keeps the messages that arrive
 * before anyone subscribed (a client's hello sent the moment its side opened often does) and hands
 * them to the first subscriber, but node-datachannel drops what it had queued for a callback that
 * is replaced: such a hello was lost, and the client waited for its resend (a quarter of a second,
 * in about two connects out of five on loopback). With geckos never subscribed, the transport's
 * callback is the first and gets them. (geckos would also parse JSON text as its own events.)
 */
const geckosViews = new WeakMap<object, object>();
function geckosView(native: NativeDataChannel): object {
  let view = geckosViews.get(native);
  if (!view) {
    view = new Proxy(native, {
      get(target, key) {
        if (key === 'onMessage') return () => {};
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    geckosViews.set(native, view);
  }
  return view;
}

let channelPatchInstalled = false;
function patchGeckosChannels(): void {
  if (channelPatchInstalled) return;
  channelPatchInstalled = true;
  Object.defineProperty(GeckosChannel.prototype, 'dataChannel', {
    configurable: true,
    get(this: object) {
      const native = natives.get(this);
      return native ? geckosView(native) : CLOSED_DATA_CHANNEL;
    },
    set(this: object, value: NativeDataChannel | null) {
      if (value) natives.set(this, value);
      else natives.delete(this);
    },
  });
}

export function attachUdp(server: Server, gateway: Gateway, options: UdpOptions, log: Logger): UdpTransport {
  patchGeckosChannels();
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
    // A channel that finished opening after its connection was closed (a client that gave up
    // half-way) still reaches here, through the inert stand-in: nobody will ever speak on it and
    // its disconnect has already been reported, so a session for it would only linger.
    if (!nativeOf(channel).isOpen()) {
      log.debug('ignoring a WebRTC channel that opened after its connection closed', { id: channel.id ?? '?' });
      return;
    }
    channels.add(channel);
    // The libdatachannel channel itself. Frames go to and come from it directly: geckos' own path
    // adds a promise and a copy per message on the way out and, on the way in, treats JSON text
    // as its own events (a client could fake a "disconnect" that way).
    // Looked up on every use: once geckos closes the connection this is the inert stand-in, and the
    // native channel must not be touched any more (doing so can crash the process).
    const session = gateway.open({
      transport: 'udp',
      remote: channel.id ?? '?',
      // libdatachannel copies the bytes before returning.
      send: (frame) => {
        try {
          const dc = nativeOf(channel);
          if (dc.isOpen()) dc.sendMessageBinary(frame);
        } catch {
          /* closing underneath us: the disconnect callback reports it */
        }
      },
      // Closing drops whatever libdatachannel still queues: give the last frame (a kick's error,
      // a reconnect notice) time to leave first.
      close: () => {
        setTimeout(() => void channel.close().catch(() => {}), 200).unref();
      },
      bufferedAmount: () => {
        try {
          return nativeOf(channel).bufferedAmount();
        } catch {
          return 0;
        }
      },
    });
    // The first subscriber (see geckosView): messages that arrived before now are delivered here.
    nativeOf(channel).onMessage((data) => {
      if (typeof data === 'string') return session.onFrame(data);
      session.onFrame(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    });
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
