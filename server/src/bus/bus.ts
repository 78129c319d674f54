/**
 * Messages between server processes. In-process when AMQP_URL is unset; RabbitMQ otherwise.
 */

export type BusMessage =
  | { readonly kind: 'chat'; readonly from: string; readonly fromName: string; readonly text: string; readonly sentAt: number }
  | { readonly kind: 'whisper'; readonly from: string; readonly fromName: string; readonly toAccountId: string; readonly text: string; readonly sentAt: number }
  | { readonly kind: 'broadcast'; readonly text: string; readonly sentAt: number }
  /** Close the account's session `sessionId`; when `replyTo` is set, answer it with `released`. */
  | { readonly kind: 'kick'; readonly accountId: string; readonly sessionId: string; readonly reason: string; readonly replyTo?: string }
  /**
   * The session `sessionId` of the account is gone from the sender. `state` is the character's final
   * state when the sender cannot vouch that it is committed yet (JSON of a CharacterState).
   */
  | { readonly kind: 'released'; readonly accountId: string; readonly sessionId: string; readonly state?: unknown }
  | { readonly kind: 'transfer'; readonly characterId: string; readonly accountId: string; readonly toZone: number; readonly fromServerId: string };

export type BusHandler = (message: BusMessage) => void | Promise<void>;

export interface Bus {
  /** Resolves when the broker answers; rejects (with cause) when it does not. */
  ping(): Promise<void>;
  /** Delivers to every subscribed process, this one included (global chat, admin broadcast). */
  publish(message: BusMessage): Promise<void>;
  /**
   * Delivers to one process (whispers, kicks, zone transfers). Durable: a message for a process that
   * is briefly away waits for it; the returned promise resolves once the broker has it.
   */
  send(serverId: string, message: BusMessage): Promise<void>;
  /** Starts delivering broadcasts and this process's direct messages to `handler`. */
  subscribe(serverId: string, handler: BusHandler): Promise<void>;
  /** Stops delivery and releases connections. */
  close(): Promise<void>;
}
