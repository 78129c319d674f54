/**
 * The bus inside one process: the embedded default when AMQP_URL is unset. Several LocalBus objects
 * may share one LocalBusHub to stand for several processes in tests.
 *
 * Delivery matches the RabbitMQ bus: never synchronous inside publish/send, in order per receiver,
 * one handler call at a time per subscriber, messages copied (no shared objects), and direct
 * messages for a process that has not subscribed yet kept until it does.
 */
import type { Bus, BusHandler, BusMessage } from './bus.ts';

interface Subscriber {
  readonly serverId: string;
  deliver(message: BusMessage): void;
}

/** Shared routing state behind one or more LocalBus objects. */
export class LocalBusHub {
  readonly subscribers = new Set<Subscriber>();
  /** Direct messages waiting for a process that is not subscribed. */
  readonly pending = new Map<string, BusMessage[]>();
}

export interface LocalBusOptions {
  /** Hub shared with other LocalBus objects; a fresh one when omitted. */
  readonly hub?: LocalBusHub;
  /** Called when a handler throws or rejects; the message is dropped (as the RabbitMQ bus does). */
  readonly onHandlerError?: (error: unknown, message: BusMessage) => void;
}

export class LocalBus implements Bus {
  readonly #hub: LocalBusHub;
  readonly #onHandlerError: (error: unknown, message: BusMessage) => void;
  #subscriber: Subscriber | undefined;
  #closed = false;

  constructor(options: LocalBusOptions = {}) {
    this.#hub = options.hub ?? new LocalBusHub();
    this.#onHandlerError = options.onHandlerError ?? (() => {});
  }

  /** Always answers while open. */
  async ping(): Promise<void> {
    this.#check();
  }

  /** Delivers a copy to every subscriber, this process included. */
  async publish(message: BusMessage): Promise<void> {
    this.#check();
    for (const subscriber of this.#hub.subscribers) subscriber.deliver(structuredClone(message));
  }

  /** Delivers a copy to the process `serverId`, keeping it until that process subscribes. */
  async send(serverId: string, message: BusMessage): Promise<void> {
    this.#check();
    const copy = structuredClone(message);
    for (const subscriber of this.#hub.subscribers) {
      if (subscriber.serverId === serverId) {
        subscriber.deliver(copy);
        return;
      }
    }
    const queue = this.#hub.pending.get(serverId) ?? [];
    queue.push(copy);
    this.#hub.pending.set(serverId, queue);
  }

  /** Starts delivery to `handler`, first of any direct messages kept for `serverId`. */
  async subscribe(serverId: string, handler: BusHandler): Promise<void> {
    this.#check();
    if (this.#subscriber) throw new Error('this bus is already subscribed');
    let chain = Promise.resolve();
    const onError = this.#onHandlerError;
    const subscriber: Subscriber = {
      serverId,
      deliver(message) {
        chain = chain.then(async () => {
          try {
            await handler(message);
          } catch (error) {
            onError(error, message);
          }
        });
      },
    };
    this.#subscriber = subscriber;
    this.#hub.subscribers.add(subscriber);
    const waiting = this.#hub.pending.get(serverId);
    this.#hub.pending.delete(serverId);
    for (const message of waiting ?? []) subscriber.deliver(message);
  }

  /** Stops delivery; later direct messages for this process wait in the hub. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#subscriber) this.#hub.subscribers.delete(this.#subscriber);
    this.#subscriber = undefined;
  }

  #check(): void {
    if (this.#closed) throw new Error('bus is closed');
  }
}
