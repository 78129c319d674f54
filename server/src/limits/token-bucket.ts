/**
 * Token buckets: a burst and a sustained rate, for the gateway's per-connection limits and the world's
 * chat channel budgets. Time is passed in (milliseconds, monotonic, or world time), so the limiter is
 * deterministic under test and costs no clock read of its own.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly capacity: number;
  /** Tokens added per millisecond. */
  private readonly perMs: number;

  /** A bucket holding `capacity` tokens, refilled at `perSecond`; starts full at time `now`. */
  constructor(capacity: number, perSecond: number, now: number) {
    this.capacity = capacity;
    this.perMs = perSecond / 1000;
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes `n` tokens if available at time `now`; false (and nothing taken) otherwise. */
  take(now: number, n = 1): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
      this.last = now;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Tokens available at the last update (for tests and diagnostics). */
  get available(): number {
    return this.tokens;
  }
}
