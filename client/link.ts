/**
 * A client's link to the game server over either transport: WebSocket (TCP) or geckos.io (WebRTC
 * data channel over UDP), both reduced to "send a frame, receive frames, closed". Browser-safe:
 * Node callers must install the WebRTC polyfill first (`installNodeWebRtc` in ./node.ts) and may
 * pass the `ws` package's WebSocket.
 */
import geckos from '@geckos.io/client';
import type { TransportName } from '../contract/ports.ts';

/** A connected, frame-oriented link to the game server. */
export interface ServerLink {
  readonly kind: TransportName;
  /** Sends one frame; the link may keep a reference, so never modify it afterwards. Dropped when closed. */
  send(frame: Uint8Array): void;
  /**
   * Optional: frames sent until `uncork` leave together (one write on a stream transport), for a
   * sender with several messages at once. Links without it send each frame at once.
   */
  cork?(): void;
  uncork?(): void;
  /** Closes the channel; `onClose` fires once (also for closes the server or network caused). */
  close(): void;
  /** Called with every received frame. */
  onFrame: (frame: Uint8Array) => void;
  /** Called once when the channel is closed, with a short reason for logs. */
  onClose: (reason: string) => void;
}

/** A WebSocket constructor: the browser's, Node's global one, or the `ws` package's. */
export type WebSocketConstructor = new (url: string) => WebSocket;

export class ConnectError extends Error {
  readonly transport: TransportName;
  /**
   * UDP only: the addresses (`host:port`) the server offered in its ICE candidates before the
   * attempt failed — what a player would have sent to. Empty when it offered none.
   */
  readonly announced: readonly string[];
  constructor(transport: TransportName, message: string, options?: ErrorOptions & { announced?: readonly string[] }) {
    super(message, options);
    this.name = 'ConnectError';
    this.transport = transport;
    this.announced = options?.announced ?? [];
  }
}

const CANDIDATE = /candidate:\S+ \d+ (?:udp|UDP) \d+ (\S+) (\d+) typ /;

/** `host:port` of an ICE candidate line over UDP (IPv6 hosts bracketed), or undefined. */
export function candidateAddress(line: string): string | undefined {
  const m = CANDIDATE.exec(line);
  if (!m) return undefined;
  return `${m[1]!.includes(':') ? `[${m[1]}]` : m[1]}:${m[2]}`;
}

/**
 * Records the candidates the server offers to geckos' peer connection: those in its description and
 * those added later (geckos polls the server for them and adds them to the connection it creates).
 */
function watchCandidates(channel: unknown): () => string[] {
  const seen = new Set<string>();
  const note = (text: string | undefined) => {
    for (const line of text?.split(/\r?\n/) ?? []) {
      const address = candidateAddress(line);
      if (address) seen.add(address);
    }
  };
  const manager = (channel as { connectionsManager?: Record<string, unknown> }).connectionsManager;
  if (manager) {
    let pc: { addIceCandidate(c: { candidate?: string } | undefined): Promise<void> } | undefined;
    Object.defineProperty(manager, 'localPeerConnection', {
      configurable: true,
      get: () => pc,
      set: (value: typeof pc) => {
        pc = value;
        if (!value) return;
        const add = value.addIceCandidate.bind(value);
        value.addIceCandidate = (c) => {
          note(c?.candidate);
          return add(c);
        };
      },
    });
  }
  return () => {
    note((manager?.remotePeerConnection as { localDescription?: { sdp?: string } } | undefined)?.localDescription?.sdp);
    return [...seen];
  };
}

const noop = (): void => {};

/** `http(s)://host:port` → `ws(s)://host:port/ws`. */
export function webSocketUrl(serverUrl: string, path = '/ws'): string {
  const u = new URL(serverUrl);
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  u.pathname = path;
  u.search = '';
  return u.toString();
}

/** Opens a WebSocket to `<serverUrl>/ws`; rejects with ConnectError after `timeoutMs`. */
export function connectWebSocket(serverUrl: string, timeoutMs: number, Ctor?: WebSocketConstructor): Promise<ServerLink> {
  const WS: WebSocketConstructor | undefined = Ctor ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WS) return Promise.reject(new ConnectError('ws', 'no WebSocket implementation: pass one (e.g. the ws package)'));
  return new Promise((resolve, reject) => {
    let settled = false;
    let socket: WebSocket;
    try {
      socket = new WS(webSocketUrl(serverUrl));
    } catch (err) {
      reject(new ConnectError('ws', `cannot open WebSocket to ${serverUrl}: ${String(err)}`, { cause: err }));
      return;
    }
    socket.binaryType = 'arraybuffer';
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      try {
        socket.close();
      } catch {
        /* closing a socket that never opened can throw in some implementations */
      }
      reject(new ConnectError('ws', `WebSocket to ${serverUrl} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    const link: ServerLink & { closed: boolean } = {
      kind: 'ws',
      closed: false,
      send(frame) {
        if (socket.readyState === 1) socket.send(frame as Uint8Array<ArrayBuffer>);
      },
      close() {
        socket.close();
      },
      onFrame: noop,
      onClose: noop,
    };
    socket.onopen = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(link);
    };
    socket.onmessage = (ev: MessageEvent) => {
      const d: unknown = ev.data;
      if (d instanceof ArrayBuffer) link.onFrame(new Uint8Array(d));
      else if (ArrayBuffer.isView(d)) link.onFrame(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      // Text frames are not part of the protocol: ignored.
    };
    socket.onerror = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new ConnectError('ws', `WebSocket to ${serverUrl} failed to open`));
    };
    socket.onclose = (ev: CloseEvent) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new ConnectError('ws', `WebSocket to ${serverUrl} closed before opening (${ev.code})`));
        return;
      }
      if (link.closed) return;
      link.closed = true;
      link.onClose(`ws closed ${ev.code}${ev.reason ? ` ${ev.reason}` : ''}`);
    };
  });
}

export interface UdpOptions {
  /** STUN/TURN servers for the client's peer connection. */
  iceServers?: RTCIceServer[];
}

/**
 * Opens a geckos.io data channel signalled over `serverUrl` (same host and port as the game HTTP
 * server); rejects with ConnectError after `timeoutMs`. A connect can fail on a path that drops
 * UDP or a lost handshake packet, so callers retry (GameClient does) and fall back to WebSocket.
 */
export function connectUdp(serverUrl: string, timeoutMs: number, options: UdpOptions = {}): Promise<ServerLink> {
  if (typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection !== 'function') {
    return Promise.reject(new ConnectError('udp', 'no RTCPeerConnection: in Node call installNodeWebRtc() first'));
  }
  const u = new URL(serverUrl);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return new Promise((resolve, reject) => {
    let settled = false;
    let closed = false;
    const channel = geckos({
      url: `${u.protocol}//${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}`,
      port,
      ...(options.iceServers ? { iceServers: options.iceServers } : {}),
    });
    const announced = watchCandidates(channel);
    // geckos' own close() fires its "close" request without handling its failure, which is an
    // unhandled rejection (a crash in Node) whenever the server is already gone. Do the same steps
    // with the failure handled.
    const inner = channel as unknown as {
      peerConnection?: { localPeerConnection?: { close(): void; addIceCandidate(c: unknown): Promise<void> } };
      bridge?: { emit(event: string): void };
      url?: string;
    };
    const safeClose = (): void => {
      let id: string | undefined;
      try {
        id = channel.id;
      } catch {
        id = undefined; // signaling never completed
      }
      try {
        const pc = inner.peerConnection?.localPeerConnection;
        // geckos keeps polling for server candidates for ~10 s and adds them without handling the
        // rejection a closed connection gives: make late additions no-ops instead of crashes.
        if (pc) pc.addIceCandidate = async () => {};
        pc?.close();
        inner.bridge?.emit('disconnected');
      } catch {
        /* already closed */
      }
      if (id && inner.url) {
        fetch(`${inner.url}/.wrtc/v2/connections/${id}/close`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }).catch(
          () => {},
        );
      }
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      closed = true;
      const offered = announced();
      safeClose();
      const said = offered.length ? `the server announced ${offered.join(', ')}` : 'the server announced no UDP address';
      reject(new ConnectError('udp', `WebRTC channel to ${serverUrl} did not open within ${timeoutMs} ms (${said})`, { announced: offered }));
    }, timeoutMs);
    const link: ServerLink = {
      kind: 'udp',
      send(frame) {
        if (closed) return;
        try {
          channel.raw.emit(frame);
        } catch {
          /* a channel closing underneath us: the close callback reports it */
        }
      },
      close() {
        if (closed) return;
        closed = true;
        safeClose();
      },
      onFrame: noop,
      onClose: noop,
    };
    void channel.onConnect((error) => {
      if (settled) {
        if (!error && closed) safeClose(); // connected after the timeout: do not leak it
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (error) {
        closed = true;
        reject(new ConnectError('udp', `WebRTC channel to ${serverUrl} failed: ${error.message}`, { cause: error }));
        return;
      }
      channel.onRaw((data: unknown) => {
        if (data instanceof ArrayBuffer) link.onFrame(new Uint8Array(data));
        else if (ArrayBuffer.isView(data)) link.onFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
      let reported = false;
      channel.onDisconnect(() => {
        closed = true;
        if (reported) return;
        reported = true;
        link.onClose('udp disconnected');
      });
      resolve(link);
    });
  });
}
