/**
 * A player who stays in the game across connections: a GameClient that reconnects by itself. It follows the
 * server's `reconnect` (a drain: after the delay the server asked for, to the next address of its
 * list, so it lands on another process) and `transfer` (to the address of the process that serves
 * the character's new zone), and reconnects with capped, jittered backoff when a connection is lost
 * or refused for a reason that may pass (draining, full, unavailable). The character's state is
 * kept by the servers, so every new connection resumes it.
 *
 *   const player = await ReconnectingClient.start({ urls: [a, b], token, onClient: (c) => c.on('ack', …) });
 *
 * It stops trying when the token is refused, when another login replaced this one, after
 * `maxAttempts` failed connects in a row, or when `close()` is called.
 */
import type { ReconnectReason } from '../protocol/codec.ts';
import { GameClient, GameClientError, GameClientTransfer, type GameClientOptions } from './game-client.ts';

/** Why a connection was (re)opened. */
export type ConnectReason = 'initial' | ReconnectReason | 'transfer' | 'lost';

export interface ConnectedInfo {
  readonly reason: ConnectReason;
  readonly url: string;
  /** Milliseconds from the previous connection's close to the new welcome (the reconnect itself). */
  readonly ms: number;
  /** Milliseconds from the server's `reconnect` or `transfer` notice to the new welcome, if there was one. */
  readonly sinceNoticeMs?: number;
  /** Failed connects before this one. */
  readonly failures: number;
}

export interface ReconnectingClientOptions extends Omit<GameClientOptions, 'url'> {
  /** Server addresses (http://host:port), tried in turn; in a cluster usually one Service address. */
  readonly urls: readonly string[];
  /** Failed connects in a row before giving up. Default 20. */
  readonly maxAttempts?: number;
  /** First backoff delay in ms; doubles per failure up to 5 s, ±20 % jitter. Default 200. */
  readonly backoffMs?: number;
  /** Called with every new client before any of its messages is delivered: attach listeners here. */
  readonly onClient?: (client: GameClient, info: ConnectedInfo) => void;
  /** Called once when it stops for good (refused token, replaced, too many failures). */
  readonly onStopped?: (reason: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Errors a retry (elsewhere, or later) can get past. */
const RETRYABLE = new Set(['connect_failed', 'draining', 'server_full', 'unavailable', 'internal', 'zone_unavailable']);

export class ReconnectingClient {
  /** The current connection; undefined while reconnecting or after stopping. */
  client: GameClient | undefined;
  /** Connections opened so far (the first included). */
  connections = 0;
  /** Why it stopped, once it has. */
  stopped: string | undefined;
  readonly #o: ReconnectingClientOptions;
  #next = 0;
  #closing = false;
  #reconnecting = false;

  private constructor(options: ReconnectingClientOptions) {
    if (options.urls.length === 0) throw new Error('ReconnectingClient needs at least one server URL');
    this.#o = options;
  }

  /** Connects to the first address that welcomes the player; rejects like GameClient.connect. */
  static async start(options: ReconnectingClientOptions): Promise<ReconnectingClient> {
    const s = new ReconnectingClient(options);
    const client = await s.#connectLoop(undefined, 'initial', performance.now(), undefined);
    if (!client) throw new GameClientError('connect_failed', `no server welcomed the player: ${s.stopped ?? 'unknown'}`);
    return s;
  }

  /** Closes the connection and stops reconnecting. */
  close(): void {
    this.#closing = true;
    this.client?.close();
  }

  /** The address the next reconnect tries first. */
  get nextUrl(): string {
    return this.#o.urls[this.#next % this.#o.urls.length]!;
  }

  #attach(client: GameClient, info: ConnectedInfo): void {
    this.client = client;
    this.connections++;
    let notice: { reason: ConnectReason; url?: string; at: number } | undefined;
    let replaced = false;
    client.on('error', (m) => {
      if (m.name === 'session_replaced' || m.name === 'auth_failed') replaced = true;
    });
    client.on('reconnect', (m) => {
      notice = { reason: m.reason, at: performance.now() };
      this.#next++; // the process that asks us to go is the one we just used: start with the next
      setTimeout(() => client.close(), m.afterMs);
    });
    client.on('transfer', (m) => {
      notice = { reason: 'transfer', url: m.url, at: performance.now() };
    });
    client.on('close', () => {
      if (this.client === client) this.client = undefined;
      if (this.#closing) return this.#stop('closed');
      if (replaced) return this.#stop('replaced by another login (or the token was refused)');
      const reason = notice?.reason ?? 'lost';
      if (reason === 'lost') this.#next++;
      void this.#connectLoop(notice?.url, reason, performance.now(), notice?.at);
    });
    this.#o.onClient?.(client, info);
  }

  /** Connects (first to `preferred`, then round the list) with backoff; undefined when it gave up. */
  async #connectLoop(preferred: string | undefined, reason: ConnectReason, since: number, noticeAt: number | undefined): Promise<GameClient | undefined> {
    if (this.#reconnecting) return undefined;
    this.#reconnecting = true;
    try {
      const max = this.#o.maxAttempts ?? 20;
      const base = this.#o.backoffMs ?? 200;
      let url = preferred;
      let lastError = '';
      for (let failures = 0; failures < max; failures++) {
        if (this.#closing) {
          this.#stop('closed');
          return undefined;
        }
        const target = url ?? this.nextUrl;
        try {
          const { urls: _urls, maxAttempts: _m, backoffMs: _b, onClient: _c, onStopped: _s, ...rest } = this.#o;
          const client = await GameClient.connect({ ...rest, url: target });
          if (this.#closing) {
            client.close();
            this.#stop('closed');
            return undefined;
          }
          const now = performance.now();
          this.#attach(client, { reason, url: target, ms: now - since, ...(noticeAt === undefined ? {} : { sinceNoticeMs: now - noticeAt }), failures });
          return client;
        } catch (error) {
          if (error instanceof GameClientTransfer) {
            url = error.url; // the character lives on another process now: go there at once
            continue;
          }
          const code = error instanceof GameClientError ? error.code : 'connect_failed';
          lastError = `${target}: ${(error as Error).message}`;
          if (!RETRYABLE.has(code)) {
            this.#stop(`refused: ${lastError}`);
            return undefined;
          }
          url = undefined;
          this.#next++;
          const delay = Math.min(base * 2 ** Math.min(failures, 10), 5000);
          await sleep(delay * (0.8 + Math.random() * 0.4));
        }
      }
      this.#stop(`gave up after ${max} failed connects; last: ${lastError}`);
      return undefined;
    } finally {
      this.#reconnecting = false;
    }
  }

  #stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.#o.onStopped?.(reason);
  }
}
