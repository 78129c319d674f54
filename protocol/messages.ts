/**
 * The game protocol's messages: type bytes, limits, enumerations and the shape of every message in
 * each direction. The codec (./codec.ts) encodes and decodes them; docs/protocol.md explains them.
 */
import type { ErrorCode } from './errors.ts';
import { SEND_PROFILES, type SendProfile } from '../contract/env.ts';

export { SEND_PROFILES, type SendProfile };

/**
 * Bumped whenever the meaning or layout of any message changes. 5: the welcome names the send
 * profile, and under the mmo profile acknowledgements and events come with the next snapshot.
 */
export const PROTOCOL_VERSION = 5;

/** Client → server message type bytes. */
export const CLIENT_TYPE = { hello: 1, join: 2, move: 3, chat: 4, attack: 5, ping: 6, whisper: 7, pickup: 8 } as const;
/** Server → client message type bytes. */
export const SERVER_TYPE = {
  welcome: 64,
  joined: 65,
  ack: 66,
  snapshot: 67,
  appear: 68,
  chat: 69,
  combat: 70,
  error: 71,
  reconnect: 72,
  pong: 73,
  granted: 74,
  inventory: 75,
  transfer: 76,
} as const;

export type ClientMessageType = keyof typeof CLIENT_TYPE;
export type ServerMessageType = keyof typeof SERVER_TYPE;

/** Size and range limits every decoder enforces. */
export const LIMITS = {
  /** Largest client frame accepted (a hello with the longest token fits). */
  maxClientFrame: 1200,
  /** Largest server frame a client accepts (a full snapshot fits with margin). */
  maxServerFrame: 256 * 1024,
  maxTokenBytes: 1024,
  maxChatBytes: 400,
  maxNameBytes: 48,
  maxMessageBytes: 255,
  /** World coordinates are within [0, maxCoord] (the largest MMO_ZONE_SIZE). */
  maxCoord: 100000,
  /** Zone ids are within [0, maxZone] (MMO_ZONE_COUNT is at most 1024). */
  maxZone: 1023,
  /** Item ids are 1–32 bytes of a-z, 0-9 and _ starting with a letter. */
  maxItemBytes: 32,
  /** Most distinct items an inventory message carries. */
  maxInventoryItems: 1024,
  maxUrlBytes: 255,
} as const;

/** Skills a player can attack with, by wire number; the world holds their rules. */
export const SKILLS = ['strike', 'bolt'] as const;
export type Skill = (typeof SKILLS)[number];

/**
 * Chat channels of server chat events; players send `say` (heard by players in view), `zone` and
 * `global` with chat, whispers with whisper.
 */
export const CHAT_CHANNELS = ['zone', 'global', 'whisper', 'say'] as const;
export type ChatChannel = (typeof CHAT_CHANNELS)[number];
/** Channels a client's chat message may name. */
export type PlayerChatChannel = Exclude<ChatChannel, 'whisper'>;

export const COMBAT_KINDS = ['hit', 'death', 'respawn'] as const;
export type CombatKind = (typeof COMBAT_KINDS)[number];

/** Why the server asks players to reconnect. */
export const RECONNECT_REASONS = ['draining', 'zone_moved'] as const;
export type ReconnectReason = (typeof RECONNECT_REASONS)[number];

/** Snapshot entity flags. */
export const ENTITY_FLAGS = { dead: 1, self: 2 } as const;

export interface HelloMessage { readonly type: 'hello'; readonly version: number; readonly token: string }
export interface JoinMessage { readonly type: 'join'; readonly zone: number }
/**
 * `clientTime` is the sender's clock in milliseconds (any origin); it comes back in the ack.
 * `rtt` is the client's latest move→ack round trip in ms (0 or absent: none yet); the server
 * reports it as the input→ack latency metric. It travels as whole microseconds.
 */
export interface MoveMessage { readonly type: 'move'; readonly seq: number; readonly x: number; readonly y: number; readonly clientTime: number; readonly rtt?: number }
export interface ChatMessage { readonly type: 'chat'; readonly channel: PlayerChatChannel; readonly text: string }
/** A private line to the player named `to`, wherever in the cluster they play. */
export interface WhisperMessage { readonly type: 'whisper'; readonly to: string; readonly text: string }
/**
 * A durable action: pick up one `item`. The server answers `granted` with the same `seq` only
 * after the item is committed to the database, or an error with `ref` = `seq`.
 */
export interface PickupMessage { readonly type: 'pickup'; readonly seq: number; readonly item: string }
export interface AttackMessage { readonly type: 'attack'; readonly target: number; readonly skill: Skill }
export interface PingMessage { readonly type: 'ping'; readonly nonce: number; readonly clientTime: number }

export type ClientMessage = HelloMessage | JoinMessage | MoveMessage | ChatMessage | AttackMessage | PingMessage | WhisperMessage | PickupMessage;

export interface WelcomeMessage {
  readonly type: 'welcome';
  readonly version: number;
  /** This player's entity id (unique within the process while connected). */
  readonly playerId: number;
  readonly name: string;
  readonly serverId: string;
  readonly zone: number;
  readonly zoneCount: number;
  readonly zoneSize: number;
  readonly x: number;
  readonly y: number;
  readonly hp: number;
  readonly maxHp: number;
  readonly tickRate: number;
  /** Snapshots a second; under the mmo profile also the most frames a second. */
  readonly patchRate: number;
  readonly interestRadius: number;
  /**
   * `action`: acknowledgements and events come at once, snapshots at the patch rate. `mmo`: one
   * frame per patch interval carries everything (an acknowledgement waits up to a tick, usually:
   * the server times the frames to follow the player's inputs), so clients interpolate between
   * snapshots.
   */
  readonly sendProfile: SendProfile;
}
export interface JoinedMessage { readonly type: 'joined'; readonly zone: number; readonly zoneSize: number; readonly x: number; readonly y: number }
/** Acknowledges a move: the authoritative position after clamping, and the move's own clientTime. */
export interface AckMessage { readonly type: 'ack'; readonly seq: number; readonly x: number; readonly y: number; readonly clientTime: number }
/**
 * Every entity within the player's interest radius (the player included, flagged `self`). Entities
 * absent from a snapshot are out of view. Entities are read lazily with `readSnapshotEntity`, so a
 * client that does not draw (a bot) pays nothing for them. Positions travel quantized to 1/65535
 * of the zone size (the player's exact position comes in its acks).
 */
export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly tick: number;
  readonly serverTime: number;
  readonly zoneSize: number;
  readonly count: number;
  /** Where the entity records start in `view`. */
  readonly offset: number;
  readonly view: DataView;
}
/** Static facts about an entity, sent once when it first comes into a player's view. */
export interface AppearMessage { readonly type: 'appear'; readonly id: number; readonly maxHp: number; readonly name: string }
/** `fromId` is 0 when the sender is on another process (global chat). */
export interface ChatEventMessage { readonly type: 'chat'; readonly channel: ChatChannel; readonly fromId: number; readonly fromName: string; readonly text: string }
export interface CombatMessage {
  readonly type: 'combat';
  readonly kind: CombatKind;
  readonly attacker: number;
  readonly target: number;
  readonly skill: Skill;
  readonly damage: number;
  /** The target's HP after the event. */
  readonly hp: number;
  /** The target's position (its respawn point for `respawn`). */
  readonly x: number;
  readonly y: number;
}
/** `ref` is the sequence number of the move it answers, or 0. */
export interface ErrorMessage { readonly type: 'error'; readonly code: number; readonly name: ErrorCode | undefined; readonly ref: number; readonly message: string }
/** The server is going away (or the zone moved): reconnect after `afterMs`, to the same address. */
export interface ReconnectMessage { readonly type: 'reconnect'; readonly reason: ReconnectReason; readonly afterMs: number }
export interface PongMessage { readonly type: 'pong'; readonly nonce: number; readonly clientTime: number; readonly serverTime: number }
/** A pickup is committed: the player now holds `quantity` of `item` in total. */
export interface GrantedMessage { readonly type: 'granted'; readonly seq: number; readonly item: string; readonly quantity: number }
export interface InventoryEntry { readonly item: string; readonly quantity: number }
/** The character's whole inventory, sent right after the welcome. */
export interface InventoryMessage { readonly type: 'inventory'; readonly items: readonly InventoryEntry[] }
/**
 * The character now stands in `zone`, which another process serves: connect to `url` with the same
 * token (the connection is closed after this message). The character's state travels with it.
 */
export interface TransferMessage { readonly type: 'transfer'; readonly zone: number; readonly url: string }

export type ServerMessage =
  | WelcomeMessage
  | JoinedMessage
  | AckMessage
  | SnapshotMessage
  | AppearMessage
  | ChatEventMessage
  | CombatMessage
  | ErrorMessage
  | ReconnectMessage
  | PongMessage
  | GrantedMessage
  | InventoryMessage
  | TransferMessage;

/** What a decoder returns instead of throwing. `detail` is for logs and the error's message. */
export interface DecodeFailure { readonly type: 'invalid'; readonly code: ErrorCode; readonly detail: string }

/** True when a decoder returned a failure. */
export function isDecodeFailure(v: unknown): v is DecodeFailure {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'invalid';
}

export interface SnapshotEntity {
  id: number;
  x: number;
  y: number;
  hp: number;
  flags: number;
}

/** Bytes per entity record in a snapshot: u32 id, u16 x, u16 y, u8 hp, u8 flags. */
export const SNAPSHOT_ENTITY_BYTES = 10;
/** Bytes of a snapshot's header: u8 type, u32 tick, f64 serverTime, u32 zoneSize, u16 count. */
export const SNAPSHOT_HEADER_BYTES = 19;
