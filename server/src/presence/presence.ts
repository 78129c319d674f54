/**
 * Shared, short-lived state about who is online where. In-process when REDIS_URL is unset; Redis
 * otherwise, so every server process sees the same sessions and counts.
 */

/**
 * An account's claim to be logged in: the id of its gateway session and the process holding it.
 * One claim per account cluster-wide (a newer login replaces it).
 */
export interface SessionClaim {
  readonly accountId: string;
  readonly sessionId: string;
  /** MMO_SERVER_ID of the process holding the session. */
  readonly serverId: string;
}

/** A character crossing from a zone owned by one process to a zone owned by another. */
export interface Handoff {
  readonly characterId: string;
  readonly fromServerId: string;
  readonly toZone: number;
  /** Opaque state the receiving process restores (JSON-serialisable). */
  readonly state: unknown;
}

export interface OnlineCounts {
  readonly total: number;
  readonly byZone: Readonly<Record<string, number>>;
}

export interface Presence {
  /** Resolves when the backend answers; rejects (with cause) when it does not. */
  ping(): Promise<void>;
  /**
   * Makes `session` the account's only session; resolves with the session it replaced, if any, so
   * the caller can kick it (one session per account).
   */
  claimSession(session: SessionClaim): Promise<SessionClaim | undefined>;
  /** Drops the account's session if it is still `sessionId` (a newer login is left alone). */
  releaseSession(accountId: string, sessionId: string): Promise<void>;
  /** The account's current session, if any. */
  getSession(accountId: string): Promise<SessionClaim | undefined>;
  /** Publishes this process's online counts per zone; entries expire if not refreshed within `ttlMs`. */
  reportOnline(serverId: string, byZone: Readonly<Record<string, number>>, ttlMs: number): Promise<void>;
  /** Online players across all live processes. */
  online(): Promise<OnlineCounts>;
  /** Publishes how players reach `serverId` (its MMO_PUBLIC_URL); expires unless refreshed within `ttlMs`. */
  advertise(serverId: string, url: string, ttlMs: number): Promise<void>;
  /** The address a live process advertised, if any. */
  serverUrl(serverId: string): Promise<string | undefined>;
  /** Records which process owns `zones`; expires unless refreshed within `ttlMs`. */
  claimZones(serverId: string, zones: readonly number[], ttlMs: number): Promise<void>;
  /** The process owning `zone`, if any live one does. */
  zoneOwner(zone: number): Promise<string | undefined>;
  /** Stores a handoff for its receiver; replaces none (a second put for one character rejects). */
  putHandoff(handoff: Handoff, ttlMs: number): Promise<void>;
  /** Returns the character's pending handoff and deletes it atomically: at most one taker gets it. */
  takeHandoff(characterId: string): Promise<Handoff | undefined>;
  /** Releases connections. */
  close(): Promise<void>;
}
