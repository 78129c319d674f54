/** Stores for the WorkerStore unit tests, opened inside its worker thread. */
import { MemoryStore } from '../../server/src/store/memory.ts';
import { StoreError, type Store } from '../../server/src/store/store.ts';

/** A memory store whose ping ends the worker thread, as a crash would. */
export async function openDying(): Promise<Store> {
  const store = new MemoryStore();
  store.ping = async () => process.exit(3);
  return store;
}

/** Fails to open, the way a locked data directory does. */
export async function openLocked(dir: string): Promise<Store> {
  throw new StoreError('unavailable', `data directory ${dir} is in use`);
}

export async function openMemory(): Promise<Store> {
  return new MemoryStore();
}
