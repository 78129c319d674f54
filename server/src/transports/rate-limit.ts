/** Per-connection rate limits: token buckets (../limits/token-bucket.ts), one per message kind. */
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
