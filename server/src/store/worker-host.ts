/**
 * The worker side of WorkerStore (./worker.ts): opens the store named in workerData, answers
 * `ready` (or the open's error, id 0), then starts each call as it arrives, as the game thread
 * would call the store directly, and posts its result or error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Store } from './store.ts';
import { serializeError, type StoreAnswer, type StoreCall, type WorkerStoreSpec } from './worker.ts';

const port = parentPort;
const spec = (workerData as { store?: WorkerStoreSpec } | undefined)?.store;
if (port && spec) {
  const post = (m: StoreAnswer): void => port.postMessage(m);
  try {
    const mod = (await import(spec.module)) as Record<string, (...args: unknown[]) => Promise<Store>>;
    const factory = mod[spec.factory];
    if (typeof factory !== 'function') throw new Error(`${spec.module} has no function ${spec.factory}`);
    const store = await factory(...spec.args);
    port.on('message', (call: StoreCall) => {
      const method = store[call.method] as (...args: unknown[]) => Promise<unknown>;
      Promise.resolve()
        .then(() => method.apply(store, call.args as unknown[]))
        .then(
          (value) => post({ id: call.id, ok: true, value }),
          (error: unknown) => post({ id: call.id, ok: false, error: serializeError(error) }),
        );
    });
    post({ id: 0, ready: true });
  } catch (error) {
    post({ id: 0, ok: false, error: serializeError(error) });
  }
}
