/**
 * A game client that works the same in Node and browsers, over WebSocket or WebRTC/UDP. The bot,
 * the load generator, the demo page and the transport tests all use it.
 *
 * `GameClient.connect` opens a transport (UDP first then WebSocket with `transport: 'auto'`), with a
 * connect timeout and retries per transport, sends hello, and resolves once the server's welcome
 * arrives. Round-trip times are measured from move → ack and ping → pong using the clientTime the
 * server echoes back.
 */
import {
  PROTOCOL_VERSION,
  decodeServerFrame,
  encodeClientMessage,
  type AckMessage,
  type PlayerChatChannel,
  type ServerMessage,
  type Skill,
  type WelcomeMessage,
} from '../protocol/codec.ts';
import type { TransportName } from '../contract/ports.ts';
import type { ErrorCode } from '../protocol/errors.ts';
import {
  ConnectError,
  connectUdp,
  connectWebSocket,
  type ServerLink,
  type WebSocketConstructor,
} from './link.ts';

export interface GameClientOptions {
  /** The game server's HTTP address, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** A player token (e.g. from `POST /auth/guest`). */
  token: string;
  /** `auto` (default) tries UDP first and falls back to WebSocket. */
  transport?: TransportName | 'auto';
  /** Per attempt: opening the transport and receiving the welcome. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Attempts per transport (a failed WebRTC connect is normal in bursts). Default 3. */
  attempts?: number;
  /** Pause between attempts, multiplied by the attempt number. Default 200 ms. */
  retryDelayMs?: number;
  /** WebSocket implementation; default the global one. */
  WebSocket?: WebSocketConstructor;
  /**
   * Opens the WebSocket transport instead of `connectWebSocket` (Node callers with many sockets
   * pass `connectNodeWebSocket` from ./node.ts, which skips the DOM event layer).
   */
  openWebSocket?: (serverUrl: string, timeoutMs: number) => Promise<ServerLink>;
  /** Opens the UDP transport instead of `connectUdp` (the load generator passes its own lean client). */
  openUdp?: (serverUrl: string, timeoutMs: number) => Promise<ServerLink>;
  iceServers?: RTCIceServer[];
  /** Clock for RTT measurement in ms; default performance.now. */
  now?: () => number;
  /** Told about each failed attempt before the next one, so a UI can show the fallback happening. */
  onAttemptFailed?: (transport: TransportName, attempt: number, error: Error) => void;
}

/** The server refused the hello (or the connection never got a welcome). */
export class GameClientError extends Error {
  /** The server's error code, or `connect_failed` when no server answered. */
  readonly code: ErrorCode | 'connect_failed';
  constructor(code: ErrorCode | 'connect_failed', message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GameClientError';
    this.code = code;
  }
}

/** The hello was answered with `transfer`: the character is served at `url` now. */
export class GameClientTransfer extends GameClientError {
  readonly zone: number;
  readonly url: string;
  constructor(zone: number, url: string) {
    super('zone_unavailable', `zone ${zone} is served at ${url}`);
    this.name = 'GameClientTransfer';
    this.zone = zone;
    this.url = url;
  }
}

type Listener<T> = (value: T) => void;
type MessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

const defaultNow = (): number => performance.now();

export class GameClient {
  readonly link: ServerLink;
  /** The welcome this connection started with. */
  readonly welcome: WelcomeMessage;
  /** RTT of the most recent ack or pong, in ms. */
  lastRttMs = 0;
  /** Exponentially smoothed RTT (α = 1/8, like TCP), in ms. */
  smoothedRttMs = 0;
  /** Frames the server sent that failed to decode (should stay 0). */
  badFrames = 0;
  /** Why and when the connection closed, once it has. */
  closedReason: string | undefined;
  readonly closed: Promise<string>;

  private seq = 0;
  private nonce = 0;
  private readonly now: () => number;
  private readonly listeners = new Map<string, Set<Listener<never>>>();
  private readonly pings = new Map<number, (rtt: number) => void>();
  private resolveClosed!: (reason: string) => void;
  /** Messages waiting for the first delivery turn (see the constructor). */
  private held: ServerMessage[] | undefined;

  private constructor(link: ServerLink, welcome: WelcomeMessage, now: () => number, backlog: ServerMessage[]) {
    this.link = link;
    this.welcome = welcome;
    this.now = now;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    link.onFrame = (frame) => this.handleFrame(frame);
    link.onClose = (reason) => {
      this.closedReason = reason;
      for (const resolve of this.pings.values()) resolve(Number.NaN);
      this.pings.clear();
      this.resolveClosed(reason);
      this.emit('close', reason);
    };
    // Messages that arrived with the welcome (the inventory, at least) are delivered on a later
    // turn of the event loop, so listeners attached right after `await connect()` get them; frames
    // arriving meanwhile queue behind them, keeping the order.
    if (backlog.length > 0) {
      this.held = backlog;
      setTimeout(() => {
        const held = this.held ?? [];
        this.held = undefined;
        for (const m of held) this.dispatch(m);
      }, 0);
    }
  }

  /** Connects, says hello and resolves with a client once welcomed; rejects with GameClientError. */
  static async connect(options: GameClientOptions): Promise<GameClient> {
    const order: TransportName[] = options.transport === 'ws' ? ['ws'] : options.transport === 'udp' ? ['udp'] : ['udp', 'ws'];
    const attempts = options.attempts ?? 3;
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    const retryDelayMs = options.retryDelayMs ?? 200;
    const now = options.now ?? defaultNow;
    const failures: string[] = [];
    for (const kind of order) {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const link =
            kind === 'ws'
              ? await (options.openWebSocket ? options.openWebSocket(options.url, timeoutMs) : connectWebSocket(options.url, timeoutMs, options.WebSocket))
              : options.openUdp
                ? await options.openUdp(options.url, timeoutMs)
                : await connectUdp(options.url, timeoutMs, options.iceServers ? { iceServers: options.iceServers } : {});
          const { welcome, backlog } = await hello(link, options.token, timeoutMs);
          return new GameClient(link, welcome, now, backlog);
        } catch (err) {
          // A refusal by the server (bad token, full, draining) will not change with retries.
          if (err instanceof GameClientError && err.code !== 'connect_failed') throw err;
          failures.push(`${kind}#${attempt}: ${(err as Error).message}`);
          options.onAttemptFailed?.(kind, attempt, err as Error);
          if (attempt < attempts) await sleep(retryDelayMs * attempt);
        }
      }
    }
    throw new GameClientError('connect_failed', `could not connect to ${options.url}: ${failures.join('; ')}`);
  }

  /** Which transport carries this connection. */
  get kind(): TransportName {
    return this.link.kind;
  }

  /** Subscribes to one server message type (or `close`); returns the unsubscribe function. */
  on<T extends ServerMessage['type']>(type: T, listener: Listener<MessageOf<T>>): () => void;
  on(type: 'close', listener: Listener<string>): () => void;
  on(type: string, listener: Listener<never>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves with the next message of `type`, or rejects after `timeoutMs`. */
  next<T extends ServerMessage['type']>(type: T, timeoutMs = 5000, filter?: (m: MessageOf<T>) => boolean): Promise<MessageOf<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(type, (m) => {
        if (filter && !filter(m)) return;
        clearTimeout(timer);
        off();
        resolve(m);
      });
    });
  }

  /** Sends a move to (x, y); returns its sequence number (the ack carries it back). */
  move(x: number, y: number): number {
    this.seq = (this.seq + 1) >>> 0;
    this.link.send(encodeClientMessage({ type: 'move', seq: this.seq, x, y, clientTime: this.now(), rtt: this.lastRttMs }));
    return this.seq;
  }

  /** Asks to enter another zone; the server answers with `joined` or an error. */
  join(zone: number): void {
    this.link.send(encodeClientMessage({ type: 'join', zone }));
  }

  chat(channel: PlayerChatChannel, text: string): void {
    this.link.send(encodeClientMessage({ type: 'chat', channel, text }));
  }

  /** Sends a private line to the player named `to`; an error `not_online` comes back if nobody is. */
  whisper(to: string, text: string): void {
    this.link.send(encodeClientMessage({ type: 'whisper', to, text }));
  }

  /**
   * Picks up one `item` (a durable action); returns its sequence number. The server answers
   * `granted` with it once the item is committed, or an error whose `ref` is it.
   */
  pickup(item: string): number {
    this.seq = (this.seq + 1) >>> 0;
    this.link.send(encodeClientMessage({ type: 'pickup', seq: this.seq, item }));
    return this.seq;
  }

  attack(target: number, skill: Skill): void {
    this.link.send(encodeClientMessage({ type: 'attack', target, skill }));
  }

  /** Measures one round trip; resolves with the RTT in ms (NaN if the connection closed first). */
  ping(timeoutMs = 5000): Promise<number> {
    this.nonce = (this.nonce + 1) >>> 0;
    const nonce = this.nonce;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(nonce);
        reject(new Error(`no pong within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pings.set(nonce, (rtt) => {
        clearTimeout(timer);
        resolve(rtt);
      });
      this.link.send(encodeClientMessage({ type: 'ping', nonce, clientTime: this.now() }));
    });
  }

  /** Sends raw bytes (tests use it to send malformed frames). */
  sendRaw(frame: Uint8Array): void {
    this.link.send(frame);
  }

  /** Closes the connection; `closed` resolves once the transport reports it. */
  close(): void {
    this.link.close();
  }

  private handleFrame(frame: Uint8Array): void {
    const messages = decodeServerFrame(frame);
    if (!Array.isArray(messages)) {
      this.badFrames++;
      return;
    }
    if (this.held) this.held.push(...messages);
    else for (const m of messages) this.dispatch(m);
  }

  private dispatch(m: ServerMessage): void {
    if (m.type === 'ack') this.sample(this.now() - (m as AckMessage).clientTime);
    else if (m.type === 'pong') {
      const rtt = this.now() - m.clientTime;
      this.sample(rtt);
      const resolve = this.pings.get(m.nonce);
      if (resolve) {
        this.pings.delete(m.nonce);
        resolve(rtt);
      }
    }
    this.emit(m.type, m);
  }

  private sample(rtt: number): void {
    this.lastRttMs = rtt;
    this.smoothedRttMs = this.smoothedRttMs === 0 ? rtt : this.smoothedRttMs + (rtt - this.smoothedRttMs) / 8;
  }

  private emit(type: string, value: unknown): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const l of set) (l as Listener<unknown>)(value);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends hello and waits for welcome; messages after the welcome in the same frame are returned. */
function hello(link: ServerLink, token: string, timeoutMs: number): Promise<{ welcome: WelcomeMessage; backlog: ServerMessage[] }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, value?: { welcome: WelcomeMessage; backlog: ServerMessage[] }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        link.close();
        reject(err);
      } else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new GameClientError('connect_failed', `no welcome within ${timeoutMs} ms over ${link.kind}`)),
      timeoutMs,
    );
    link.onClose = (reason) => finish(new GameClientError('connect_failed', `closed before welcome: ${reason}`));
    link.onFrame = (frame) => {
      const messages = decodeServerFrame(frame);
      if (!Array.isArray(messages)) return finish(new GameClientError('connect_failed', `bad frame from server: ${messages.detail}`));
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (m.type === 'welcome') return finish(undefined, { welcome: m, backlog: messages.slice(i + 1) });
        if (m.type === 'error') return finish(new GameClientError(m.name ?? 'internal', m.message || `server error ${m.code}`));
        if (m.type === 'reconnect') return finish(new GameClientError('draining', 'server is draining'));
        if (m.type === 'transfer') return finish(new GameClientTransfer(m.zone, m.url));
      }
    };
    const frame = encodeClientMessage({ type: 'hello', version: PROTOCOL_VERSION, token });
    link.send(frame);
    // The UDP channel is unreliable, and a hello sent the moment this side opened can arrive before
    // the server's side is open and be dropped: resend it until welcomed (the server answers a
    // repeated hello with the welcome again).
    if (link.kind === 'udp') {
      const resend = setInterval(() => (done ? clearInterval(resend) : link.send(frame)), HELLO_RESEND_MS);
    }
  });
}

/** How often a UDP client resends its hello while no welcome has come. */
const HELLO_RESEND_MS = 250;

export { ConnectError };
