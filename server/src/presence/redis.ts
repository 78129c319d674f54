/**
 * Presence on Redis (ioredis), shared by every server process. Calls fail fast while Redis is
 * unreachable (UnavailableError: a player's join should get an error, not hang), and the connection
 * (server/src/redis.ts) reconnects in the background with capped exponential backoff.
 *
 * Keys (under `keyPrefix`, default "mmo:"):
 *   session:<accountId>    JSON SessionClaim; expires after SESSION_TTL_MS without a new claim
 *   online:<serverId>      JSON counts by zone, PX ttl; `online-servers` (sorted set) lists them
 *   zone:<zone>            owning serverId, PX ttl
 *   server:<serverId>      the process's public URL, PX ttl
 *   handoff:<characterId>  JSON Handoff, SET NX PX; taken with GETDEL (atomic: one taker)
 */
import type { Redis } from 'ioredis';
import { RedisConnection, type RedisConnectionOptions } from '../redis.ts';
import type { Handoff, OnlineCounts, Presence, SessionClaim } from './presence.ts';

export { describeRedisUrl } from '../redis.ts';

/** A session nobody re-claims or releases (its process died) is forgotten after a day. */
export const SESSION_TTL_MS = 24 * 60 * 60 * 1000;

export type RedisPresenceOptions = RedisConnectionOptions;

// Deletes the session only if it still belongs to sessionId (a newer login is left alone).
const RELEASE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).sessionId == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisPresence implements Presence {
  /** The connection presence runs on; other Redis-backed parts may share it. `close()` closes it. */
  readonly connection: RedisConnection;

  constructor(connection: RedisConnection) {
    this.connection = connection;
  }

  /**
   * Connects to `url`; rejects with a message naming the address when the first connection fails
   * within `connectTimeoutMs` (default 5,000). Later outages are retried in the background.
   */
  static async connect(url: string, options: RedisPresenceOptions = {}): Promise<RedisPresence> {
    return new RedisPresence(await RedisConnection.connect(url, options));
  }

  /** PING round trip. */
  async ping(): Promise<void> {
    await this.#call((redis) => redis.ping());
  }

  /** Swaps in the new session and returns the old one in one command (SET … GET). */
  async claimSession(session: SessionClaim): Promise<SessionClaim | undefined> {
    const value = JSON.stringify({ accountId: session.accountId, sessionId: session.sessionId, serverId: session.serverId });
    const previous = await this.#call((redis) => redis.set(`session:${session.accountId}`, value, 'PX', SESSION_TTL_MS, 'GET'));
    if (previous === null) return undefined;
    const ref = JSON.parse(previous) as SessionClaim;
    return ref.sessionId === session.sessionId ? undefined : ref;
  }

  /** Compare-and-delete in a script, so a late release never drops a newer login. */
  async releaseSession(accountId: string, sessionId: string): Promise<void> {
    await this.#call((redis) => redis.eval(RELEASE, 1, `session:${accountId}`, sessionId));
  }

  /** The account's current session, if any. */
  async getSession(accountId: string): Promise<SessionClaim | undefined> {
    const value = await this.#call((redis) => redis.get(`session:${accountId}`));
    return value === null ? undefined : (JSON.parse(value) as SessionClaim);
  }

  /** Writes this process's counts with a TTL and lists it among the reporting processes. */
  async reportOnline(serverId: string, byZone: Readonly<Record<string, number>>, ttlMs: number): Promise<void> {
    const now = Date.now();
    await this.#call((redis) =>
      redis
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
    const servers = await this.#call((redis) => redis.zrange('online-servers', '0', '-1'));
    const byZone: Record<string, number> = {};
    let total = 0;
    if (servers.length === 0) return { total, byZone };
    const reports = await this.#call((redis) => redis.mget(servers.map((s) => `online:${s}`)));
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
    await this.#call((redis) => redis.set(`server:${serverId}`, url, 'PX', ttlMs));
  }

  /** The address a live process advertised, if any. */
  async serverUrl(serverId: string): Promise<string | undefined> {
    return (await this.#call((redis) => redis.get(`server:${serverId}`))) ?? undefined;
  }

  /** Sets each zone's owner with a TTL (the latest claim wins). */
  async claimZones(serverId: string, zones: readonly number[], ttlMs: number): Promise<void> {
    if (zones.length === 0) return;
    await this.#call((redis) => {
      const multi = redis.multi();
      for (const zone of zones) multi.set(`zone:${zone}`, serverId, 'PX', ttlMs);
      return multi.exec();
    });
  }

  /** The live owner of `zone`, if any. */
  async zoneOwner(zone: number): Promise<string | undefined> {
    return (await this.#call((redis) => redis.get(`zone:${zone}`))) ?? undefined;
  }

  /** SET NX: rejects when a handoff for the character is already pending. */
  async putHandoff(handoff: Handoff, ttlMs: number): Promise<void> {
    const ok = await this.#call((redis) => redis.set(`handoff:${handoff.characterId}`, JSON.stringify(handoff), 'PX', ttlMs, 'NX'));
    if (ok !== 'OK') throw new Error(`a handoff for character ${handoff.characterId} is already pending`);
  }

  /** GETDEL: of any number of concurrent takers, exactly one receives the handoff. */
  async takeHandoff(characterId: string): Promise<Handoff | undefined> {
    const value = await this.#call((redis) => redis.getdel(`handoff:${characterId}`));
    return value === null ? undefined : (JSON.parse(value) as Handoff);
  }

  /** Closes the connection (QUIT when connected). */
  async close(): Promise<void> {
    await this.connection.close();
  }

  /** Runs commands, turning connection failures into one UnavailableError that names Redis. */
  #call<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    return this.connection.call('presence', fn);
  }
}
