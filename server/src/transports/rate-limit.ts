/**
 * Token buckets for per-connection limits. Time is passed in (milliseconds, monotonic), so the
 * limiter is deterministic under test and costs no clock read of its own.
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

/** Per-connection limits by message kind: [burst, sustained per second]. */
export const CONNECTION_LIMITS = {
  /** Every frame, valid or not. */
  frames: [120, 60],
  move: [40, 30],
  /** `say` lines and whispers. */
  chat: [5, 1],
  /** Zone chat, on top of `chat`: one line per 5 s sustained (the zone's own budget caps the channel). */
  zoneChat: [3, 0.2],
  /** Global chat, on top of `chat`: one line per 30 s sustained. */
  globalChat: [2, 1 / 30],
  attack: [10, 5],
  ping: [10, 5],
  join: [4, 1],
  /** Invalid or over-limit messages tolerated before the connection is closed for abuse. */
  strikes: [30, 3],
  /** Error replies (beyond this the errors are still counted, not sent). */
  errorReplies: [20, 5],
} as const satisfies Record<string, readonly [number, number]>;

export type LimitedKind = keyof typeof CONNECTION_LIMITS;
