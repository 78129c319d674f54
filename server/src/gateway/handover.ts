/**
 * Bookkeeping that lets a character move between sessions without losing its newest state, within
 * this process or across processes:
 *
 * - When a login replaces a session held by another process, the new process sends it a `kick`
 *   with `replyTo` and waits (briefly) for `released`, which carries the old session's final state
 *   unless that is already committed. A dead process never answers: the wait ends at its timeout
 *   and the character is loaded from the store as it was last committed.
 * - A session that ends here keeps its final state until its logout save commits, so a login that
 *   follows at once (here or elsewhere) gets that state instead of an older row.
 * - A zone transfer announced over the bus is kept until its player arrives (or it expires).
 */
import type { Handoff } from '../presence/presence.ts';
import type { CharacterState } from '../store/store.ts';

/** How long a final state is kept when its save keeps failing (the retry queue still holds it). */
const FINAL_TTL_MS = 10 * 60 * 1000;
/** How long an announced transfer waits for its player. */
const ARRIVAL_TTL_MS = 60 * 1000;

interface Final {
  readonly sessionId: string;
  readonly state: CharacterState;
  readonly expiresAt: number;
}

export class Handover {
  readonly #waiters = new Map<string, (state: CharacterState | undefined) => void>();
  readonly #finals = new Map<string, Final>();
  readonly #arrivals = new Map<string, { readonly handoff: Handoff; readonly expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Resolves with the state `released` carries for (accountId, sessionId), or undefined when the
   * answer carries none or does not come within `timeoutMs`. Register before sending the kick.
   */
  awaitRelease(accountId: string, sessionId: string, timeoutMs: number): Promise<CharacterState | undefined> {
    const key = `${accountId}/${sessionId}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (state: CharacterState | undefined) => {
        clearTimeout(timer);
        if (this.#waiters.get(key) === finish) this.#waiters.delete(key);
        resolve(state);
      };
      this.#waiters.set(key, finish);
    });
  }

  /** Handles a `released` answer; returns false when nobody waits for it (late or unknown). */
  released(accountId: string, sessionId: string, state: unknown): boolean {
    const waiter = this.#waiters.get(`${accountId}/${sessionId}`);
    if (!waiter) return false;
    waiter(parseState(state));
    return true;
  }

  /** Keeps the final state of a session that ended here until `committed` is called for it. */
  rememberFinal(accountId: string, sessionId: string, state: CharacterState): void {
    this.#finals.set(accountId, { sessionId, state, expiresAt: this.#now() + FINAL_TTL_MS });
  }

  /** The session's final state is in the store: forget it (unless a newer session replaced it). */
  committed(accountId: string, sessionId: string): void {
    if (this.#finals.get(accountId)?.sessionId === sessionId) this.#finals.delete(accountId);
  }

  /** The final state of the account's last session here, if not known to be committed. */
  finalOf(accountId: string, sessionId?: string): CharacterState | undefined {
    const f = this.#finals.get(accountId);
    if (!f) return undefined;
    if (f.expiresAt <= this.#now()) {
      this.#finals.delete(accountId);
      return undefined;
    }
    return sessionId === undefined || f.sessionId === sessionId ? f.state : undefined;
  }

  /** Keeps a transfer announced over the bus for its player's hello. */
  expect(handoff: Handoff): void {
    this.#sweep();
    this.#arrivals.set(handoff.characterId, { handoff, expiresAt: this.#now() + ARRIVAL_TTL_MS });
  }

  /** Takes the announced transfer of `characterId`, if one is waiting. */
  arrive(characterId: string): Handoff | undefined {
    const a = this.#arrivals.get(characterId);
    this.#arrivals.delete(characterId);
    return a && a.expiresAt > this.#now() ? a.handoff : undefined;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, a] of this.#arrivals) if (a.expiresAt <= now) this.#arrivals.delete(id);
    for (const [id, f] of this.#finals) if (f.expiresAt <= now) this.#finals.delete(id);
  }
}

/** The newer of two states of one character (by version); either may be missing. */
export function newest(a: CharacterState | undefined, b: CharacterState | undefined): CharacterState | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.version > a.version ? b : a;
}

/** A CharacterState from untrusted JSON (a bus message or handoff), or undefined when malformed. */
export function parseState(value: unknown): CharacterState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const num = (k: string) => typeof v[k] === 'number' && Number.isFinite(v[k]);
  if (typeof v.id !== 'string' || !['zone', 'x', 'y', 'hp', 'level', 'xp', 'version'].every(num)) return undefined;
  return {
    id: v.id,
    zone: v.zone as number,
    x: v.x as number,
    y: v.y as number,
    hp: v.hp as number,
    level: v.level as number,
    xp: v.xp as number,
    version: v.version as number,
  };
}
