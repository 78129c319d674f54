/**
 * Sliding-window counters for login throttling, in this process's memory. Bounded: at most
 * `maxKeys` keys are tracked; past that, keys whose window is over are dropped first.
 */
export class SlidingWindow {
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
  blockedFor(key: string): number {
    const hits = this.#recent(key);
    if (hits.length < this.#limit) return 0;
    return hits[hits.length - this.#limit]! + this.#windowMs - this.#now();
  }

  /** Counts one hit for `key`. */
  hit(key: string): void {
    const hits = this.#recent(key);
    hits.push(this.#now());
    if (hits.length > this.#limit) hits.splice(0, hits.length - this.#limit);
    this.#hits.set(key, hits);
    if (this.#hits.size > this.#maxKeys) this.#prune();
  }

  /** Forgets `key` (a successful login clears its failures). */
  reset(key: string): void {
    this.#hits.delete(key);
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
