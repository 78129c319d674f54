/**
 * Presence held in this process's memory: the embedded default when REDIS_URL is unset. Several
 * LocalPresence objects may share one LocalPresenceState to stand for several processes in tests.
 */
import type { Handoff, OnlineCounts, Presence, SessionClaim } from './presence.ts';

interface Expiring<T> {
  readonly value: T;
  readonly expiresAt: number;
}

/** The shared state behind one or more LocalPresence objects. */
export class LocalPresenceState {
  readonly sessions = new Map<string, SessionClaim>();
  readonly online = new Map<string, Expiring<Readonly<Record<string, number>>>>();
  readonly zones = new Map<number, Expiring<string>>();
  readonly urls = new Map<string, Expiring<string>>();
  readonly handoffs = new Map<string, Expiring<Handoff>>();
}

export interface LocalPresenceOptions {
  /** State shared with other LocalPresence objects; a fresh one when omitted. */
  readonly state?: LocalPresenceState;
  /** Milliseconds clock; tests pass a fake one. Defaults to Date.now. */
  readonly now?: () => number;
}

export class LocalPresence implements Presence {
  readonly #state: LocalPresenceState;
  readonly #now: () => number;
  #closed = false;

  constructor(options: LocalPresenceOptions = {}) {
    this.#state = options.state ?? new LocalPresenceState();
    this.#now = options.now ?? Date.now;
  }

  /** Always answers while open. */
  async ping(): Promise<void> {
    this.#check();
  }

  /** Makes `session` the account's only session and returns the one it replaced. */
  async claimSession(session: SessionClaim): Promise<SessionClaim | undefined> {
    this.#check();
    const previous = this.#state.sessions.get(session.accountId);
    this.#state.sessions.set(session.accountId, { ...session });
    return previous && previous.sessionId !== session.sessionId ? previous : undefined;
  }

  /** Drops the account's session only if it is still `sessionId`. */
  async releaseSession(accountId: string, sessionId: string): Promise<void> {
    this.#check();
    if (this.#state.sessions.get(accountId)?.sessionId === sessionId) this.#state.sessions.delete(accountId);
  }

  /** The account's current session, if any. */
  async getSession(accountId: string): Promise<SessionClaim | undefined> {
    this.#check();
    return this.#state.sessions.get(accountId);
  }

  /** Replaces this process's counts; they vanish after `ttlMs` unless reported again. */
  async reportOnline(serverId: string, byZone: Readonly<Record<string, number>>, ttlMs: number): Promise<void> {
    this.#check();
    this.#state.online.set(serverId, { value: { ...byZone }, expiresAt: this.#now() + ttlMs });
  }

  /** Sums the counts of every process whose report has not expired. */
  async online(): Promise<OnlineCounts> {
    this.#check();
    const now = this.#now();
    const byZone: Record<string, number> = {};
    let total = 0;
    for (const [serverId, entry] of this.#state.online) {
      if (entry.expiresAt <= now) {
        this.#state.online.delete(serverId);
        continue;
      }
      for (const [zone, count] of Object.entries(entry.value)) {
        byZone[zone] = (byZone[zone] ?? 0) + count;
        total += count;
      }
    }
    return { total, byZone };
  }

  /** Records the process's address until `ttlMs` passes. */
  async advertise(serverId: string, url: string, ttlMs: number): Promise<void> {
    this.#check();
    this.#state.urls.set(serverId, { value: url, expiresAt: this.#now() + ttlMs });
  }

  /** The address a live process advertised, if any. */
  async serverUrl(serverId: string): Promise<string | undefined> {
    this.#check();
    return this.#live(this.#state.urls, serverId);
  }

  /** Records `serverId` as owner of `zones` (the latest claim wins) until `ttlMs` passes. */
  async claimZones(serverId: string, zones: readonly number[], ttlMs: number): Promise<void> {
    this.#check();
    const expiresAt = this.#now() + ttlMs;
    for (const zone of zones) this.#state.zones.set(zone, { value: serverId, expiresAt });
  }

  /** The live owner of `zone`, if any. */
  async zoneOwner(zone: number): Promise<string | undefined> {
    this.#check();
    return this.#live(this.#state.zones, zone);
  }

  /** Stores a handoff; rejects when one is already pending for the character. */
  async putHandoff(handoff: Handoff, ttlMs: number): Promise<void> {
    this.#check();
    if (this.#live(this.#state.handoffs, handoff.characterId)) {
      throw new Error(`a handoff for character ${handoff.characterId} is already pending`);
    }
    // A deep copy, so the receiver never shares objects with the sender (as with Redis).
    const copy = JSON.parse(JSON.stringify(handoff)) as Handoff;
    this.#state.handoffs.set(handoff.characterId, { value: copy, expiresAt: this.#now() + ttlMs });
  }

  /** Returns and deletes the pending handoff in one step. */
  async takeHandoff(characterId: string): Promise<Handoff | undefined> {
    this.#check();
    const handoff = this.#live(this.#state.handoffs, characterId);
    this.#state.handoffs.delete(characterId);
    return handoff;
  }

  /** Further calls reject; the shared state stays for other objects. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #live<K, V>(map: Map<K, Expiring<V>>, key: K): V | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  #check(): void {
    if (this.#closed) throw new Error('presence is closed');
  }
}
