/**
 * The bus on RabbitMQ (amqplib), shared by every server process.
 *
 * Topology (names under `prefix`, default "mmo"):
 *   <prefix>.broadcast        fanout exchange, durable: global chat and admin broadcasts. Each
 *                             subscriber binds its own exclusive queue, so a process that is away
 *                             misses them (chat is not worth replaying).
 *   <prefix>.server.<id>      durable queue per process for direct messages (whispers, kicks,
 *                             transfers), persistent messages, declared by senders too so a message
 *                             for a process that is briefly away (restarting) waits for it. A queue
 *                             nobody uses for QUEUE_EXPIRES_MS is deleted by the broker.
 *
 * `send` and `publish` resolve once the broker confirms (publisher confirms). Deliveries are
 * acknowledged after the handler returns, one handler call at a time, in order. After a broker
 * restart or a lost connection the bus reconnects with capped backoff, declares the topology again
 * and resumes consuming; calls made meanwhile reject at once.
 */
import amqp from 'amqplib';
import { UnavailableError } from '../unavailable.ts';
import type { Bus, BusHandler, BusMessage } from './bus.ts';

/** A direct queue with no consumer and no sender for this long is removed by the broker. */
export const QUEUE_EXPIRES_MS = 60 * 60 * 1000;
/** A direct message not consumed within this long is dropped (a whisper an hour late helps nobody). */
export const MESSAGE_TTL_MS = 10 * 60 * 1000;
/** Deliveries in flight per consumer. */
const PREFETCH = 200;

export interface RabbitBusOptions {
  /** Prefix of exchange and queue names; lets several installations share one broker. Default "mmo". */
  readonly prefix?: string;
  /** Milliseconds the first connection may take. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Connection state changes and dropped messages, for logs. Never throws. */
  readonly onEvent?: (event: 'connected' | 'disconnected' | 'reconnect_failed' | 'handler_error', detail?: unknown) => void;
}

/** `amqp://host:port/vhost` without credentials, for messages and logs. */
export function describeAmqpUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return '(unparseable AMQP_URL)';
  }
}

interface Live {
  readonly connection: amqp.ChannelModel;
  readonly publisher: amqp.ConfirmChannel;
  consumer?: amqp.Channel;
  /**
   * Direct queues `send` declared on this connection, with when: declared again only once that is
   * half of QUEUE_EXPIRES_MS ago (a declaration keeps an unused queue from expiring), and all again
   * on a new connection (the broker may have restarted without them).
   */
  readonly declared: Map<string, number>;
}

export class RabbitBus implements Bus {
  readonly #url: string;
  readonly #label: string;
  readonly #prefix: string;
  readonly #onEvent: NonNullable<RabbitBusOptions['onEvent']>;
  #live: Live | undefined;
  #subscription: { serverId: string; handler: BusHandler } | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempt = 0;

  private constructor(url: string, options: RabbitBusOptions) {
    this.#url = url;
    this.#label = describeAmqpUrl(url);
    this.#prefix = options.prefix ?? 'mmo';
    this.#onEvent = options.onEvent ?? (() => {});
  }

  /**
   * Connects to `url` and declares the topology; rejects with a message naming the address when
   * the first connection fails. Later outages are retried in the background.
   */
  static async connect(url: string, options: RabbitBusOptions = {}): Promise<RabbitBus> {
    const bus = new RabbitBus(url, options);
    try {
      await bus.#open(options.connectTimeoutMs ?? 5_000);
    } catch (error) {
      throw new Error(`cannot reach RabbitMQ at ${bus.#label}: ${reason(error)}`, { cause: error });
    }
    return bus;
  }

  get #broadcastExchange(): string {
    return `${this.#prefix}.broadcast`;
  }
  #directQueue(serverId: string): string {
    return `${this.#prefix}.server.${serverId}`;
  }

  /** A passive check of the broadcast exchange: one round trip to the broker. */
  async ping(): Promise<void> {
    await this.#publisher().checkExchange(this.#broadcastExchange).catch((error: unknown) => {
      throw this.#unavailable(error);
    });
  }

  /** Publishes to the fanout exchange; resolves when the broker confirms. */
  async publish(message: BusMessage): Promise<void> {
    const publisher = this.#publisher();
    await confirm(publisher, (cb) => publisher.publish(this.#broadcastExchange, '', encode(message), { contentType: 'application/json' }, cb)).catch(
      (error: unknown) => {
        throw this.#unavailable(error);
      },
    );
  }

  /**
   * Declares the target's durable queue (once per connection and half expiry period: the kick of a
   * login takeover pays no extra round trip) and sends a persistent message; resolves when confirmed.
   */
  async send(serverId: string, message: BusMessage): Promise<void> {
    const live = this.#connected();
    const { publisher, declared } = live;
    const queue = this.#directQueue(serverId);
    try {
      const at = declared.get(queue);
      const now = Date.now();
      if (at === undefined || now - at > QUEUE_EXPIRES_MS / 2) {
        await publisher.assertQueue(queue, directQueueOptions);
        declared.set(queue, now);
      }
      await confirm(publisher, (cb) => publisher.sendToQueue(queue, encode(message), { persistent: true, contentType: 'application/json' }, cb));
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** Starts consuming broadcasts and this process's direct queue (again after every reconnect). */
  async subscribe(serverId: string, handler: BusHandler): Promise<void> {
    if (this.#subscription) throw new Error('this bus is already subscribed');
    if (this.#closed) throw new Error('bus is closed');
    this.#subscription = { serverId, handler };
    if (this.#live) {
      try {
        await this.#consume(this.#live);
      } catch (error) {
        throw this.#unavailable(error);
      }
    }
  }

  /** Cancels consumers (unacknowledged direct messages go back to the queue) and disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    const live = this.#live;
    this.#live = undefined;
    if (live) await live.connection.close().catch(() => {});
  }

  // --- connection lifecycle ------------------------------------------------------------------

  async #open(timeoutMs: number): Promise<void> {
    const connection = await amqp.connect(withHeartbeat(this.#url), { timeout: timeoutMs, clientProperties: { connection_name: 'mmo-game-server' } });
    try {
      const publisher = await connection.createConfirmChannel();
      await publisher.assertExchange(this.#broadcastExchange, 'fanout', { durable: true });
      const live: Live = { connection, publisher, declared: new Map() };
      // Any unexpected close of the connection or a channel: start over with a fresh connection.
      const lost = (error?: unknown) => this.#lost(live, error);
      connection.on('error', () => {}); // followed by 'close', handled there
      connection.on('close', lost);
      publisher.on('error', () => {});
      publisher.on('close', lost);
      if (this.#subscription) await this.#consume(live);
      if (this.#closed) {
        await connection.close().catch(() => {});
        return;
      }
      this.#live = live;
      this.#attempt = 0;
      this.#onEvent('connected');
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  async #consume(live: Live): Promise<void> {
    const { serverId } = this.#subscription!;
    const consumer = await live.connection.createChannel();
    live.consumer = consumer;
    consumer.on('error', () => {});
    consumer.on('close', () => this.#lost(live));
    await consumer.prefetch(PREFETCH);
    const direct = this.#directQueue(serverId);
    await consumer.assertQueue(direct, directQueueOptions);
    const { queue: fanout } = await consumer.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await consumer.bindQueue(fanout, this.#broadcastExchange, '');
    const onMessage = (msg: amqp.ConsumeMessage | null) => {
      if (msg) this.#deliver(consumer, msg);
    };
    await consumer.consume(direct, onMessage);
    await consumer.consume(fanout, onMessage);
  }

  /** Runs the handler after the previous one finished, then acknowledges. */
  #deliver(channel: amqp.Channel, msg: amqp.ConsumeMessage): void {
    this.#chain = this.#chain.then(async () => {
      // Closed meanwhile: leave it unacknowledged, so the broker keeps it for the next subscriber.
      if (this.#closed) return;
      let message: BusMessage;
      try {
        message = JSON.parse(msg.content.toString('utf8')) as BusMessage;
      } catch (error) {
        this.#onEvent('handler_error', error);
        return ackSafely(channel, msg);
      }
      try {
        await this.#subscription?.handler(message);
      } catch (error) {
        // Dropped, not requeued: a message that throws once would throw forever.
        this.#onEvent('handler_error', error);
      }
      // If the channel died meanwhile the ack fails and the broker redelivers after reconnecting.
      ackSafely(channel, msg);
    });
  }

  #lost(live: Live, error?: unknown): void {
    if (this.#live !== live) return; // an older connection, or already handled
    this.#live = undefined;
    live.connection.close().catch(() => {});
    if (this.#closed) return;
    this.#onEvent('disconnected', error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    // 200 ms, 400 ms, … capped at 5 s, with jitter so a fleet does not reconnect in lockstep.
    const base = Math.min(200 * 2 ** this.#attempt, 5_000);
    this.#attempt = Math.min(this.#attempt + 1, 10);
    this.#reconnectTimer = setTimeout(
      () => {
        this.#open(5_000).catch((error: unknown) => {
          this.#onEvent('reconnect_failed', error);
          if (!this.#closed) this.#scheduleReconnect();
        });
      },
      base * (0.8 + Math.random() * 0.4),
    );
    this.#reconnectTimer.unref();
  }

  #publisher(): amqp.ConfirmChannel {
    return this.#connected().publisher;
  }

  #connected(): Live {
    if (this.#closed) throw new Error('bus is closed');
    if (!this.#live) throw new UnavailableError(`bus unavailable: RabbitMQ at ${this.#label} is not connected (reconnecting)`);
    return this.#live;
  }

  #unavailable(error: unknown): Error {
    if (error instanceof UnavailableError) return error;
    return new UnavailableError(`bus unavailable: RabbitMQ at ${this.#label}: ${reason(error)}`, { cause: error });
  }
}

const directQueueOptions: amqp.Options.AssertQueue = {
  durable: true,
  arguments: { 'x-expires': QUEUE_EXPIRES_MS, 'x-message-ttl': MESSAGE_TTL_MS },
};

/** Heartbeats every 10 s (unless the URL sets them) so a dead broker is noticed within ~20 s. */
function withHeartbeat(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', '10');
  return u.toString();
}

function encode(message: BusMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

function confirm(channel: amqp.ConfirmChannel, publish: (cb: (err: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    publish((err) => (err ? reject(err instanceof Error ? err : new Error('the broker refused the message (nack)')) : resolve()));
  });
}

function ackSafely(channel: amqp.Channel, msg: amqp.ConsumeMessage): void {
  try {
    channel.ack(msg);
  } catch {
    // Channel closed: nothing to acknowledge on; the broker requeues the message.
  }
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  const e = error as { code?: unknown; message?: unknown };
  return [e.code, e.message].filter((p) => typeof p === 'string' && p.length > 0).join(' ') || String(error);
}
