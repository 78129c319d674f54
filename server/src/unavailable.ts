/**
 * One way to tell "a dependency cannot answer now" (a retry later may succeed) from a fault, for
 * every part: the store's StoreError('unavailable'), and UnavailableError from presence and the bus.
 * Callers decide on the type, never on the wording of a message.
 */
import { StoreError } from './store/store.ts';

/** Presence (Redis) or the bus (RabbitMQ) cannot reach its backend now; a retry later may succeed. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  readonly code = 'unavailable';
}

/** True when `error` says a dependency is unavailable right now (not a fault of the caller or a bug). */
export function isUnavailable(error: unknown): boolean {
  return error instanceof UnavailableError || (error instanceof StoreError && error.code === 'unavailable');
}
