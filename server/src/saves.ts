/**
 * Every character save of one process goes through here: the periodic batch, logouts, transfers and
 * the final flush of a drain. States queued while a batch commits are coalesced into the next batch
 * (the newest version of each character wins), so 200 players leaving at once cost one transaction,
 * and at most one save transaction runs at a time.
 *
 * What a caller may rely on:
 * - `save(states)` resolves once a transaction holding those states (or newer ones of the same
 *   characters) has committed; it rejects when that transaction failed.
 * - A failed state is never dropped: it is kept and retried with the next `flush()` (the periodic
 *   save calls it every MMO_SAVE_INTERVAL_SECONDS), unless a newer state of that character arrives.
 * - Versions make retries safe: the store skips a state whose version is not above the stored one.
 */
import type { Logger } from './log.ts';
import type { CharacterState, Store } from './store/store.ts';

/** Why a save happens; the `kind` label of the save metrics. */
export type SaveKind = 'batch' | 'logout' | 'transfer' | 'drain';

export interface SaveMetrics {
  /** Seconds one committed batch took. */
  observe(kind: SaveKind, seconds: number): void;
  /** One failed batch of `count` states. */
  failed(kind: SaveKind, count: number): void;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class CharacterSaves {
  readonly #store: Store;
  readonly #metrics: SaveMetrics;
  readonly #log: Logger;
  /** Queued for the next batch, newest state per character id. */
  #next = new Map<string, CharacterState>();
  #nextKind: SaveKind | undefined;
  #nextWaiters: Waiter[] = [];
  /** States whose batch failed, waiting for the next flush. */
  readonly #retry = new Map<string, CharacterState>();
  #running: Promise<void> | undefined;
  #failing = false;

  constructor(store: Store, metrics: SaveMetrics, log: Logger) {
    this.#store = store;
    this.#metrics = metrics;
    this.#log = log;
  }

  /** Characters not yet known to be committed (queued, committing or waiting for a retry). */
  get backlog(): number {
    const ids = new Set([...this.#next.keys(), ...this.#retry.keys()]);
    return ids.size;
  }

  /** Queues `states` for the next batch; resolves once they are committed, rejects if that batch fails. */
  save(states: readonly CharacterState[], kind: SaveKind): Promise<void> {
    if (states.length === 0 && this.#next.size === 0) return Promise.resolve();
    for (const s of states) {
      this.#retry.delete(s.id);
      keepNewest(this.#next, s);
    }
    // A batch carrying periodic states is labelled a batch; otherwise by its first reason.
    if (this.#nextKind === undefined || kind === 'batch') this.#nextKind = kind;
    const done = new Promise<void>((resolve, reject) => this.#nextWaiters.push({ resolve, reject }));
    this.#schedule();
    return done;
  }

  /**
   * Saves `states` together with every state waiting for a retry; resolves when that batch is done
   * (failures are logged and kept, never thrown).
   */
  async flush(states: readonly CharacterState[], kind: SaveKind): Promise<void> {
    for (const s of this.#retry.values()) keepNewest(this.#next, s);
    this.#retry.clear();
    await this.save(states, kind).catch(() => {});
  }

  /** Resolves once nothing is queued or committing (retries may remain: see `backlog`). */
  async idle(): Promise<void> {
    while (this.#running || this.#next.size > 0) {
      if (!this.#running) this.#schedule();
      await this.#running?.catch(() => {});
    }
  }

  #schedule(): void {
    if (this.#running) return; // the running batch starts the next one when it ends
    this.#running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#run());
  }

  async #run(): Promise<void> {
    const batch = this.#next;
    const waiters = this.#nextWaiters;
    const kind = this.#nextKind ?? 'batch';
    this.#next = new Map();
    this.#nextWaiters = [];
    this.#nextKind = undefined;
    const states = [...batch.values()];
    const started = performance.now();
    try {
      if (states.length > 0) await this.#store.saveCharacters(states);
      if (states.length > 0) this.#metrics.observe(kind, (performance.now() - started) / 1000);
      if (this.#failing) this.#log.info('character saves work again', { kind, characters: states.length });
      this.#failing = false;
      for (const w of waiters) w.resolve();
    } catch (error) {
      // Keep every state for the next flush, unless a newer one was queued meanwhile.
      for (const s of states) if (!this.#next.has(s.id)) keepNewest(this.#retry, s);
      this.#metrics.failed(kind, states.length);
      // One line when saves start failing, not one per batch during an outage.
      if (!this.#failing) this.#log.error('saving characters failed: kept for the next save', { kind, characters: states.length, error });
      else this.#log.debug('saving characters failed again', { kind, characters: states.length, error });
      this.#failing = true;
      for (const w of waiters) w.reject(error);
    } finally {
      this.#running = undefined;
      if (this.#next.size > 0 || this.#nextWaiters.length > 0) this.#schedule();
    }
  }
}

function keepNewest(map: Map<string, CharacterState>, s: CharacterState): void {
  const seen = map.get(s.id);
  if (!seen || s.version > seen.version) map.set(s.id, s);
}
