/**
 * Sliding-window rate limits for logins and account creation. A window allows `limit` hits per key
 * within any `windowMs`; `blockedFor` says how long a key must wait once it has used them.
 *
 * Two implementations behave the same (test/conformance/rate-window.ts): LocalRateWindow in this
 * process's memory (one process, `npm start`), and RedisRateWindow (./rate-window-redis.ts) shared by
 * every process of a cluster, so N processes behind one Service allow N× nothing.
 */

export interface RateWindow {
  /** Milliseconds until `key` may act again; 0 when it may act now. */
  blockedFor(key: string): Promise<number>;
  /** Counts one hit for `key` (also when it is blocked: the window then just stays full). */
  hit(key: string): Promise<void>;
  /** Counts a hit unless `key` is blocked, in one atomic step; resolves 0 when counted, else the wait. */
  take(key: string): Promise<number>;
  /** Forgets `key` (a successful login clears its failures). */
  reset(key: string): Promise<void>;
}

export interface RateWindowSpec {
  /** Names the window (part of shared keys): e.g. "login-user". Letters, digits and "-". */
  readonly name: string;
  /** Hits allowed per key within `windowMs`; at least 1. */
  readonly limit: number;
  readonly windowMs: number;
}

/** Makes the windows a component needs; the server chooses local or Redis once for all of them. */
export type RateWindows = (spec: RateWindowSpec) => RateWindow;

/** Windows in this process's memory, on the clock `now` (milliseconds). */
export function localWindows(now: () => number = Date.now): RateWindows {
  return (spec) => new LocalRateWindow(spec.limit, spec.windowMs, now);
}

/**
 * A window in this process's memory. Bounded: at most `maxKeys` keys are tracked; past that, keys
 * whose window is over are dropped first. Methods finish synchronously (their promises are already
 * settled), so `take` is atomic within the process.
 */
export class LocalRateWindow implements RateWindow {
  readonly #hits = new Map<string, number[]>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(limit: number, windowMs: number, now: () => number = Date.now, maxKeys = 100_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /** Milliseconds until `key` may act again; 0 when it may act now. */
  async blockedFor(key: string): Promise<number> {
    return this.#wait(this.#recent(key));
  }

  /** Counts one hit for `key`. */
  async hit(key: string): Promise<void> {
    this.#add(key, this.#recent(key));
  }

  /** Counts one hit unless `key` is blocked; resolves to the wait (0 = counted). */
  async take(key: string): Promise<number> {
    const hits = this.#recent(key);
    const wait = this.#wait(hits);
    if (wait === 0) this.#add(key, hits);
    return wait;
  }

  /** Forgets `key`. */
  async reset(key: string): Promise<void> {
    this.#hits.delete(key);
  }

  #wait(hits: number[]): number {
    if (hits.length < this.#limit) return 0;
    return hits[hits.length - this.#limit]! + this.#windowMs - this.#now();
  }

  #add(key: string, hits: number[]): void {
    hits.push(this.#now());
    if (hits.length > this.#limit) hits.splice(0, hits.length - this.#limit);
    this.#hits.set(key, hits);
    if (this.#hits.size > this.#maxKeys) this.#prune();
  }

  #recent(key: string): number[] {
    const since = this.#now() - this.#windowMs;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > since);
    if (hits.length === 0) this.#hits.delete(key);
    return hits;
  }

  #prune(): void {
    const since = this.#now() - this.#windowMs;
    for (const [key, hits] of this.#hits) if (hits[hits.length - 1]! <= since) this.#hits.delete(key);
    // Still too many live keys (an attack from many addresses): drop the oldest.
    for (const key of this.#hits.keys()) {
      if (this.#hits.size <= this.#maxKeys) break;
      this.#hits.delete(key);
    }
  }
}
