/**
 * Presence on Redis (ioredis), shared by every server process. Calls fail fast while Redis is
 * unreachable (no offline queue: a player's join should get an error, not hang), and the client
 * reconnects in the background with capped exponential backoff.
 *
 * Keys (under `keyPrefix`, default "mmo:"):
 *   session:<accountId>    JSON SessionRef; expires after SESSION_TTL_MS without a new claim
 *   online:<serverId>      JSON counts by zone, PX ttl; `online-servers` (sorted set) lists them
 *   zone:<zone>            owning serverId, PX ttl
 *   server:<serverId>      the process's public URL, PX ttl
 *   handoff:<characterId>  JSON Handoff, SET NX PX; taken with GETDEL (atomic: one taker)
 */
import { Redis } from 'ioredis';
import { UnavailableError } from '../unavailable.ts';
import type { Handoff, OnlineCounts, Presence, SessionRef } from './presence.ts';

/** A session nobody re-claims or releases (its process died) is forgotten after a day. */
export const SESSION_TTL_MS = 24 * 60 * 60 * 1000;

export interface RedisPresenceOptions {
  /** Prefix of every key; lets several installations share one Redis. Default "mmo:". */
  readonly keyPrefix?: string;
  /** Milliseconds one command may take before it fails. Default 2,000. */
  readonly commandTimeoutMs?: number;
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

// Deletes the session only if it still belongs to sessionId (a newer login is left alone).
const RELEASE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).sessionId == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisPresence implements Presence {
  readonly #redis: Redis;
  readonly #label: string;

  private constructor(redis: Redis, label: string) {
    this.#redis = redis;
    this.#label = label;
  }

  /**
   * Connects to `url`; rejects with a message naming the address when the first connection fails
   * within `connectTimeoutMs` (default 5,000). Later outages are retried in the background.
   */
  static async connect(url: string, options: RedisPresenceOptions & { connectTimeoutMs?: number } = {}): Promise<RedisPresence> {
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
    return new RedisPresence(redis, label);
  }

  /** PING round trip. */
  async ping(): Promise<void> {
    await this.#call(() => this.#redis.ping());
  }

  /** Swaps in the new session and returns the old one in one command (SET … GET). */
  async claimSession(session: SessionRef): Promise<SessionRef | undefined> {
    const value = JSON.stringify({ accountId: session.accountId, sessionId: session.sessionId, serverId: session.serverId });
    const previous = await this.#call(() => this.#redis.set(`session:${session.accountId}`, value, 'PX', SESSION_TTL_MS, 'GET'));
    if (previous === null) return undefined;
    const ref = JSON.parse(previous) as SessionRef;
    return ref.sessionId === session.sessionId ? undefined : ref;
  }

  /** Compare-and-delete in a script, so a late release never drops a newer login. */
  async releaseSession(accountId: string, sessionId: string): Promise<void> {
    await this.#call(() => this.#redis.eval(RELEASE, 1, `session:${accountId}`, sessionId));
  }

  /** The account's current session, if any. */
  async getSession(accountId: string): Promise<SessionRef | undefined> {
    const value = await this.#call(() => this.#redis.get(`session:${accountId}`));
    return value === null ? undefined : (JSON.parse(value) as SessionRef);
  }

  /** Writes this process's counts with a TTL and lists it among the reporting processes. */
  async reportOnline(serverId: string, byZone: Readonly<Record<string, number>>, ttlMs: number): Promise<void> {
    const now = Date.now();
    await this.#call(() =>
      this.#redis
        .multi()
        .set(`online:${serverId}`, JSON.stringify(byZone), 'PX', ttlMs)
        .zadd('online-servers', now + ttlMs, serverId)
        // Entries whose key expired long ago: the key's TTL is the truth, this only bounds the set.
        .zremrangebyscore('online-servers', '-inf', now - 60_000)
        .exec(),
    );
  }

  /** Sums the counts of every process whose report has not expired. */
  async online(): Promise<OnlineCounts> {
    const servers = await this.#call(() => this.#redis.zrange('online-servers', '0', '-1'));
    const byZone: Record<string, number> = {};
    let total = 0;
    if (servers.length === 0) return { total, byZone };
    const reports = await this.#call(() => this.#redis.mget(servers.map((s) => `online:${s}`)));
    for (const report of reports) {
      if (report === null) continue; // expired: that process stopped reporting
      for (const [zone, count] of Object.entries(JSON.parse(report) as Record<string, number>)) {
        byZone[zone] = (byZone[zone] ?? 0) + count;
        total += count;
      }
    }
    return { total, byZone };
  }

  /** Stores the process's address with a TTL. */
  async advertise(serverId: string, url: string, ttlMs: number): Promise<void> {
    await this.#call(() => this.#redis.set(`server:${serverId}`, url, 'PX', ttlMs));
  }

  /** The address a live process advertised, if any. */
  async serverUrl(serverId: string): Promise<string | undefined> {
    return (await this.#call(() => this.#redis.get(`server:${serverId}`))) ?? undefined;
  }

  /** Sets each zone's owner with a TTL (the latest claim wins). */
  async claimZones(serverId: string, zones: readonly number[], ttlMs: number): Promise<void> {
    if (zones.length === 0) return;
    const multi = this.#redis.multi();
    for (const zone of zones) multi.set(`zone:${zone}`, serverId, 'PX', ttlMs);
    await this.#call(() => multi.exec());
  }

  /** The live owner of `zone`, if any. */
  async zoneOwner(zone: number): Promise<string | undefined> {
    return (await this.#call(() => this.#redis.get(`zone:${zone}`))) ?? undefined;
  }

  /** SET NX: rejects when a handoff for the character is already pending. */
  async putHandoff(handoff: Handoff, ttlMs: number): Promise<void> {
    const ok = await this.#call(() => this.#redis.set(`handoff:${handoff.characterId}`, JSON.stringify(handoff), 'PX', ttlMs, 'NX'));
    if (ok !== 'OK') throw new Error(`a handoff for character ${handoff.characterId} is already pending`);
  }

  /** GETDEL: of any number of concurrent takers, exactly one receives the handoff. */
  async takeHandoff(characterId: string): Promise<Handoff | undefined> {
    const value = await this.#call(() => this.#redis.getdel(`handoff:${characterId}`));
    return value === null ? undefined : (JSON.parse(value) as Handoff);
  }

  /** Closes the connection (QUIT when connected). */
  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  /** Runs a command, turning connection failures into one error that names Redis. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#redis.status !== 'ready') {
      throw new UnavailableError(`presence unavailable: Redis at ${this.#label} is ${this.#redis.status === 'end' ? 'closed' : 'not connected (reconnecting)'}`);
    }
    try {
      return await fn();
    } catch (error) {
      throw new UnavailableError(`presence unavailable: Redis at ${this.#label}: ${(error as Error).message}`, { cause: error });
    }
  }
}
