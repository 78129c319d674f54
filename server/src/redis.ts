/**
 * One Redis connection (ioredis) of a server process, shared by the parts that keep cluster-wide
 * state there (presence, the login throttle). Commands fail fast while Redis is unreachable (no
 * offline queue: a player's join or login should get an error, not hang), and the client reconnects
 * in the background with capped exponential backoff.
 */
import { Redis } from 'ioredis';
import { UnavailableError } from './unavailable.ts';

export interface RedisConnectionOptions {
  /** Prefix of every key; lets several installations share one Redis. Default "mmo:". */
  readonly keyPrefix?: string;
  /** Milliseconds one command may take before it fails. Default 2,000. */
  readonly commandTimeoutMs?: number;
  /** Milliseconds the first connection may take. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Called on connection state changes, for logs ("reconnecting", errors). Never throws. */
  readonly onEvent?: (event: 'ready' | 'reconnecting' | 'error', detail?: Error) => void;
}

/** `redis://host:port/db` without credentials, for messages and logs. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

export class RedisConnection {
  readonly #redis: Redis;
  /** The address without credentials, for messages. */
  readonly label: string;

  private constructor(redis: Redis, label: string) {
    this.#redis = redis;
    this.label = label;
  }

  /**
   * Connects to `url`; rejects with a message naming the address when the first connection fails
   * within `connectTimeoutMs`. Later outages are retried in the background.
   */
  static async connect(url: string, options: RedisConnectionOptions = {}): Promise<RedisConnection> {
    const label = describeRedisUrl(url);
    const redis = new Redis(url, {
      keyPrefix: options.keyPrefix ?? 'mmo:',
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      // 100 ms, 200 ms, … capped at 5 s; never gives up (readiness reports the outage meanwhile).
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 5_000),
      connectionName: 'mmo-game-server',
    });
    const onEvent = options.onEvent ?? (() => {});
    redis.on('error', (error: Error) => onEvent('error', error));
    redis.on('reconnecting', () => onEvent('reconnecting'));
    redis.on('ready', () => onEvent('ready'));
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new Error(`cannot reach Redis at ${label}: ${(error as Error).message}`, { cause: error });
    }
    return new RedisConnection(redis, label);
  }

  /**
   * Runs commands on the client (keys are prefixed by it). Rejects with UnavailableError, its message
   * starting with `what`, when Redis is not connected or a command fails.
   */
  async call<T>(what: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.#redis.status !== 'ready') {
      throw new UnavailableError(`${what} unavailable: Redis at ${this.label} is ${this.#redis.status === 'end' ? 'closed' : 'not connected (reconnecting)'}`);
    }
    try {
      return await fn(this.#redis);
    } catch (error) {
      throw new UnavailableError(`${what} unavailable: Redis at ${this.label}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Closes the connection (QUIT when connected); every later call rejects with UnavailableError. */
  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }
}
