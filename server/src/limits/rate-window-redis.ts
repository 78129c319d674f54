/**
 * Rate windows in Redis, shared by every server process: a brute force spread over N processes
 * (pods behind one Service) counts as one, and a restart forgets nothing.
 *
 * Keys (under the connection's prefix, default "mmo:"):
 *   throttle:<window name>:<key>   sorted set of hits (score = the caller's clock in ms), at most
 *                                  `limit` members, expiring `windowMs` after its last hit
 *
 * Each operation is one Lua script, so check-and-count (`take`) is atomic across processes. Scores
 * come from the calling process's clock (NTP-synchronised pods differ by milliseconds, far below
 * any window); expiry is Redis's own and only bounds memory.
 *
 * While Redis cannot answer every call rejects with UnavailableError: callers refuse the action
 * (fail closed) rather than skip the limit.
 */
import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../redis.ts';
import type { RateWindow, RateWindowSpec, RateWindows } from './rate-window.ts';

// ARGV: now, since (= now - window), window, limit, member. Drops hits at or before `since` (as the
// local window does), then computes the wait from the oldest hit that still counts.
const PROLOGUE = `local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
local wait = 0
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  wait = math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
end
`;
const ADD = `redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(limit + 1))
redis.call('PEXPIRE', KEYS[1], math.ceil(window))
`;
const BLOCKED_FOR = `${PROLOGUE}return wait`;
const HIT = `${PROLOGUE}${ADD}return 0`;
const TAKE = `${PROLOGUE}if wait > 0 then return wait end
${ADD}return 0`;

/** Members must be unique per hit: this process's random tag and a counter. */
const PROCESS_TAG = randomBytes(6).toString('hex');
let sequence = 0;

/** Windows on `connection` (shared with presence), on the clock `now` (milliseconds). */
export function redisWindows(connection: RedisConnection, now: () => number = Date.now): RateWindows {
  return (spec) => new RedisRateWindow(connection, spec, now);
}

export class RedisRateWindow implements RateWindow {
  readonly #connection: RedisConnection;
  readonly #spec: RateWindowSpec;
  readonly #now: () => number;

  constructor(connection: RedisConnection, spec: RateWindowSpec, now: () => number = Date.now) {
    if (!/^[A-Za-z0-9-]+$/.test(spec.name)) throw new Error(`rate window name must be letters, digits and "-", got ${JSON.stringify(spec.name)}`);
    if (!(spec.limit >= 1) || !(spec.windowMs > 0)) throw new Error(`rate window ${spec.name}: limit must be ≥ 1 and windowMs > 0, got ${spec.limit} and ${spec.windowMs}`);
    this.#connection = connection;
    this.#spec = spec;
    this.#now = now;
  }

  /** Milliseconds until `key` may act again; 0 when it may act now. */
  async blockedFor(key: string): Promise<number> {
    return this.#run(BLOCKED_FOR, key);
  }

  /** Counts one hit for `key`. */
  async hit(key: string): Promise<void> {
    await this.#run(HIT, key);
  }

  /** Counts one hit unless `key` is blocked, atomically across processes; resolves to the wait (0 = counted). */
  async take(key: string): Promise<number> {
    return this.#run(TAKE, key);
  }

  /** Forgets `key`. */
  async reset(key: string): Promise<void> {
    await this.#connection.call('login throttle', (redis) => redis.del(this.#key(key)));
  }

  #key(key: string): string {
    return `throttle:${this.#spec.name}:${key}`;
  }

  async #run(script: string, key: string): Promise<number> {
    const now = this.#now();
    const { windowMs, limit } = this.#spec;
    const member = `${PROCESS_TAG}:${++sequence}`;
    const result = await this.#connection.call('login throttle', (redis) =>
      redis.eval(script, 1, this.#key(key), String(now), String(now - windowMs), String(windowMs), String(limit), member),
    );
    return Number(result);
  }
}
