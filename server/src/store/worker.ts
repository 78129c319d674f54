/**
 * Any Store in a worker thread, behind the same interface. The embedded PGlite runs its
 * WebAssembly PostgreSQL synchronously in whatever thread calls it: on the game thread a guest's
 * account and character cost ~1.5 ms of blocked event loop each, and a 10 s batch save of
 * thousands of characters tens of milliseconds, during which no input is read and no tick runs.
 * In a worker those run beside the game loop (the operating system interleaves the threads even on
 * one core), and the game thread only pays for posting messages.
 *
 *   const store = await openWorkerStore({ module: new URL('./pglite.ts', import.meta.url).href, factory: 'openPgliteStore', args: [dir] });
 *
 * The worker imports `module`, awaits `factory(...args)` and serves calls; errors come back as
 * StoreError with the same code (or as plain Errors with the same message). If the worker dies,
 * pending and later calls reject with StoreError('unavailable').
 */
import { Worker } from 'node:worker_threads';
import { type Account, type Character, type CharacterState, type InventoryItem, type Store, StoreError } from './store.ts';

/** Which store the worker opens: a module URL, the name of its async factory, and its arguments. */
export interface WorkerStoreSpec {
  readonly module: string;
  readonly factory: string;
  readonly args: readonly unknown[];
}

/** Calls the proxy forwards (every Store method). */
export type StoreMethod = keyof Store;

/** Main → worker. */
export interface StoreCall {
  readonly id: number;
  readonly method: StoreMethod;
  readonly args: readonly unknown[];
}

/** Worker → main: `ready` once open (or `failed`), then one answer per call. */
export type StoreAnswer =
  | { readonly id: 0; readonly ready: true }
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class WorkerStore implements Store {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Set once the worker is gone; every call rejects with it. */
  #dead: StoreError | undefined;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: StoreAnswer) => {
      if (m.id === 0) return;
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('ok' in m && m.ok) p.resolve(m.value);
      else if ('error' in m) p.reject(revive(m.error));
    });
    const die = (why: string): void => {
      this.#dead ??= new StoreError('unavailable', `the store worker ${why}`);
      for (const p of this.#pending.values()) p.reject(this.#dead);
      this.#pending.clear();
    };
    worker.on('error', (err) => die(`failed: ${err.message}`));
    worker.on('exit', (code) => die(`exited (${code})`));
  }

  /** Starts a worker that opens the store described by `spec`; rejects with the open's own error. */
  static open(spec: WorkerStoreSpec): Promise<WorkerStore> {
    const worker = new Worker(new URL('./worker-host.ts', import.meta.url), { workerData: { store: spec } });
    // Like a socket to a database, the worker alone does not keep the process running.
    worker.unref();
    return new Promise((resolve, reject) => {
      const onMessage = (m: StoreAnswer): void => {
        if (m.id !== 0) return;
        cleanup();
        if ('ready' in m) resolve(new WorkerStore(worker));
        else if ('error' in m) {
          void worker.terminate();
          reject(revive(m.error));
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`the store worker exited (${code}) before the store opened`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  #call<T>(method: StoreMethod, args: readonly unknown[]): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, method, args } satisfies StoreCall);
    });
  }

  /** Resolves when the store in the worker answers a trivial query. */
  ping(): Promise<void> {
    return this.#call('ping', []);
  }
  /** Creates an account (see Store). */
  createAccount(username: string | null, passwordHash: string | null): Promise<Account> {
    return this.#call('createAccount', [username, passwordHash]);
  }
  /** The account with this username, if any. */
  findAccountByUsername(username: string): Promise<Account | undefined> {
    return this.#call('findAccountByUsername', [username]);
  }
  /** The account with this id, if any. */
  getAccount(id: string): Promise<Account | undefined> {
    return this.#call('getAccount', [id]);
  }
  /** The account's character, created from `spawn` when it has none yet. */
  loadOrCreateCharacter(accountId: string, spawn: Omit<CharacterState, 'id' | 'version'> & { name: string }): Promise<Character> {
    return this.#call('loadOrCreateCharacter', [accountId, spawn]);
  }
  /** Commits many characters in one transaction (see Store). */
  saveCharacters(states: readonly CharacterState[]): Promise<void> {
    return this.#call('saveCharacters', [states]);
  }
  /** The durable action (see Store): resolves after the commit. */
  grantItem(characterId: string, itemId: string, quantity: number, state?: CharacterState): Promise<readonly InventoryItem[]> {
    return this.#call('grantItem', state === undefined ? [characterId, itemId, quantity] : [characterId, itemId, quantity, state]);
  }
  /** Closes the store in the worker, then the worker; later calls reject. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#dead) await this.#call('close', []).catch(() => {});
      this.#dead ??= new StoreError('unavailable', 'the store is closed');
      await this.#worker.terminate();
    })();
    return this.#closing;
  }
}

/** An error as it crosses postMessage. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof StoreError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

function revive(e: SerializedError): Error {
  if (e.name === 'StoreError' && (e.code === 'username_taken' || e.code === 'not_found' || e.code === 'unavailable')) {
    return new StoreError(e.code, e.message);
  }
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}

/** Opens the store described by `spec` in a worker thread. */
export function openWorkerStore(spec: WorkerStoreSpec): Promise<WorkerStore> {
  return WorkerStore.open(spec);
}
