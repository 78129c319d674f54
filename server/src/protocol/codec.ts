/**
 * The game protocol: one binary codec shared by the WebSocket and WebRTC transports, the bot client
 * and the browser. Only ArrayBuffer/DataView/Uint8Array/TextEncoder are used, so it runs unchanged
 * in Node and in browsers.
 *
 * Wire format (little-endian throughout):
 * - A client frame holds exactly one message: `u8 type` followed by that type's fields.
 * - A server frame holds one or more messages back to back (the server batches per connection per
 *   flush); each message is self-delimiting.
 * - Strings are UTF-8 with a length prefix (`str8`: u8 byte count, `str16`: u16 byte count).
 * - `hello` keeps its layout (`u8 1, u16 version, str16 token`) in every protocol version, so a
 *   server can always answer an old client with `bad_version`.
 *
 * Decoding never throws: malformed input yields a `DecodeFailure` carrying a stable error code.
 */
import { ERROR_CODES, errorCodeName, type ErrorCode } from './errors.ts';

/** Bumped whenever the meaning or layout of any message changes. */
export const PROTOCOL_VERSION = 4;

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

// ---------------------------------------------------------------------------------------------
// Messages

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
  readonly patchRate: number;
  readonly interestRadius: number;
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
const Q = 65535;

/** A coordinate in [0, size] as the u16 a snapshot carries. */
export function quantize(v: number, size: number): number {
  const q = Math.round((v / size) * Q);
  return q < 0 ? 0 : q > Q ? Q : q;
}

// ---------------------------------------------------------------------------------------------
// Writer

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A growable byte buffer messages are appended to. Reuse one per connection (or per encoder) and
 * `reset()` it after sending: appending allocates only when the buffer has to grow.
 */
export class FrameWriter {
  bytes: Uint8Array;
  view: DataView;
  length = 0;

  constructor(initialCapacity = 256) {
    this.bytes = new Uint8Array(initialCapacity);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Drops the content, keeps the capacity. */
  reset(): void {
    this.length = 0;
  }

  /** The written bytes (a view into the reusable buffer: copy it before the next append or reset). */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** A fresh copy of the written bytes, safe to hand to a transport. */
  copy(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.bytes[this.length++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  /** A string with a u8 (or u16) byte-length prefix, truncated at a character boundary to `maxBytes`. */
  str(v: string, maxBytes: number, prefixBytes: 1 | 2): void {
    this.ensure(prefixBytes + Math.min(maxBytes, v.length * 3) + 4);
    const at = this.length;
    const start = at + prefixBytes;
    const room = this.bytes.subarray(start, start + maxBytes);
    const { written } = encoder.encodeInto(v, room);
    if (prefixBytes === 1) this.bytes[at] = written;
    else this.view.setUint16(at, written, true);
    this.length = start + written;
  }
}

// ---------------------------------------------------------------------------------------------
// Client → server encoding

const clientScratch = new FrameWriter(LIMITS.maxClientFrame + 64);

/** Appends one client message to `w`. The caller sends one message per frame. */
export function writeClientMessage(w: FrameWriter, m: ClientMessage): void {
  switch (m.type) {
    case 'hello':
      w.u8(CLIENT_TYPE.hello);
      w.u16(m.version);
      w.str(m.token, LIMITS.maxTokenBytes, 2);
      return;
    case 'join':
      w.u8(CLIENT_TYPE.join);
      w.u16(m.zone);
      return;
    case 'move':
      w.u8(CLIENT_TYPE.move);
      w.u32(m.seq >>> 0);
      w.f32(m.x);
      w.f32(m.y);
      w.f64(m.clientTime);
      w.u32(Math.min(0xffffffff, Math.max(0, Math.round((m.rtt ?? 0) * 1000))));
      return;
    case 'chat':
      w.u8(CLIENT_TYPE.chat);
      w.u8(CHAT_CHANNELS.indexOf(m.channel));
      w.str(m.text, LIMITS.maxChatBytes, 2);
      return;
    case 'attack':
      w.u8(CLIENT_TYPE.attack);
      w.u32(m.target >>> 0);
      w.u8(SKILLS.indexOf(m.skill));
      return;
    case 'ping':
      w.u8(CLIENT_TYPE.ping);
      w.u32(m.nonce >>> 0);
      w.f64(m.clientTime);
      return;
    case 'whisper':
      w.u8(CLIENT_TYPE.whisper);
      w.str(m.to, LIMITS.maxNameBytes, 1);
      w.str(m.text, LIMITS.maxChatBytes, 2);
      return;
    case 'pickup':
      w.u8(CLIENT_TYPE.pickup);
      w.u32(m.seq >>> 0);
      w.str(m.item, LIMITS.maxItemBytes, 1);
      return;
  }
}

/** Encodes one client message into a fresh frame (strings longer than their limit are truncated). */
export function encodeClientMessage(m: ClientMessage): Uint8Array {
  clientScratch.reset();
  writeClientMessage(clientScratch, m);
  return clientScratch.copy();
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers

function fail(code: ErrorCode, detail: string): DecodeFailure {
  return { type: 'invalid', code, detail };
}

const TRUNCATED = 'truncated';

function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Reads a UTF-8 string; undefined when the bytes are not valid UTF-8. */
function readUtf8(bytes: Uint8Array, start: number, len: number): string | undefined {
  if (len === 0) return '';
  // ASCII fast path: names, tokens and most chat need no decoder call.
  let ascii = true;
  for (let i = start; i < start + len; i++) {
    if (bytes[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii && len <= 64) return String.fromCharCode.apply(null, bytes.subarray(start, start + len) as unknown as number[]);
  try {
    return fatalDecoder.decode(bytes.subarray(start, start + len));
  } catch {
    return undefined;
  }
}

/** True for C0/C1 control characters, which chat and names never contain. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

const ITEM_ID = /^[a-z][a-z0-9_]*$/;

function finiteCoord(v: number): boolean {
  return v >= 0 && v <= LIMITS.maxCoord; // false for NaN
}

// ---------------------------------------------------------------------------------------------
// Client → server decoding (runs on the server for every inbound frame)

/**
 * Decodes and validates one client frame: size, type, field ranges, UTF-8. Returns the message or a
 * `DecodeFailure`; never throws. Semantic checks (zone owned, target in range, cooldowns) are the
 * world's.
 */
export function decodeClientMessage(data: ArrayBuffer | ArrayBufferView): ClientMessage | DecodeFailure {
  const bytes = asBytes(data);
  const n = bytes.length;
  if (n === 0) return fail('bad_frame', 'empty frame');
  if (n > LIMITS.maxClientFrame) return fail('too_large', `frame of ${n} bytes exceeds ${LIMITS.maxClientFrame}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  const type = bytes[0]!;
  switch (type) {
    case CLIENT_TYPE.hello: {
      if (n < 5) return fail('bad_frame', TRUNCATED);
      const version = view.getUint16(1, true);
      if (version !== PROTOCOL_VERSION) return fail('bad_version', `protocol version ${version} is not supported; this server speaks ${PROTOCOL_VERSION}`);
      const len = view.getUint16(3, true);
      if (n !== 5 + len) return fail('bad_frame', 'hello length mismatch');
      if (len > LIMITS.maxTokenBytes) return fail('bad_field', 'token too long');
      const token = readUtf8(bytes, 5, len);
      if (token === undefined) return fail('bad_field', 'token is not UTF-8');
      return { type: 'hello', version, token };
    }
    case CLIENT_TYPE.join: {
      if (n !== 3) return fail('bad_frame', 'join must be 3 bytes');
      const zone = view.getUint16(1, true);
      if (zone > LIMITS.maxZone) return fail('bad_field', `zone ${zone} out of range 0-${LIMITS.maxZone}`);
      return { type: 'join', zone };
    }
    case CLIENT_TYPE.move: {
      if (n !== 25) return fail('bad_frame', 'move must be 25 bytes');
      const seq = view.getUint32(1, true);
      const x = view.getFloat32(5, true);
      const y = view.getFloat32(9, true);
      const clientTime = view.getFloat64(13, true);
      const rtt = view.getUint32(21, true) / 1000;
      if (!finiteCoord(x) || !finiteCoord(y)) return fail('bad_field', `position out of range 0-${LIMITS.maxCoord}`);
      if (!(clientTime >= 0 && clientTime < 1e15)) return fail('bad_field', 'clientTime must be finite and non-negative');
      return { type: 'move', seq, x, y, clientTime, rtt };
    }
    case CLIENT_TYPE.chat: {
      if (n < 4) return fail('bad_frame', TRUNCATED);
      const ch = bytes[1]!;
      const channel = CHAT_CHANNELS[ch];
      if (channel === undefined || channel === 'whisper') return fail('bad_field', `chat channel ${ch} unknown (whispers have their own message)`);
      const len = view.getUint16(2, true);
      if (n !== 4 + len) return fail('bad_frame', 'chat length mismatch');
      if (len > LIMITS.maxChatBytes) return fail('bad_field', `chat longer than ${LIMITS.maxChatBytes} bytes`);
      const text = readUtf8(bytes, 4, len);
      if (text === undefined) return fail('bad_field', 'chat is not UTF-8');
      if (text.trim().length === 0 || hasControl(text)) return fail('chat_rejected', 'chat is empty or has control characters');
      return { type: 'chat', channel, text };
    }
    case CLIENT_TYPE.attack: {
      if (n !== 6) return fail('bad_frame', 'attack must be 6 bytes');
      const target = view.getUint32(1, true);
      const s = bytes[5]!;
      const skill = SKILLS[s];
      if (skill === undefined) return fail('bad_field', `skill ${s} unknown`);
      if (target === 0) return fail('bad_field', 'target 0 is no entity');
      return { type: 'attack', target, skill };
    }
    case CLIENT_TYPE.ping: {
      if (n !== 13) return fail('bad_frame', 'ping must be 13 bytes');
      const nonce = view.getUint32(1, true);
      const clientTime = view.getFloat64(5, true);
      if (!(clientTime >= 0 && clientTime < 1e15)) return fail('bad_field', 'clientTime must be finite and non-negative');
      return { type: 'ping', nonce, clientTime };
    }
    case CLIENT_TYPE.whisper: {
      if (n < 4) return fail('bad_frame', TRUNCATED);
      const toLen = bytes[1]!;
      if (toLen === 0 || toLen > LIMITS.maxNameBytes) return fail('bad_field', `whisper target must be 1-${LIMITS.maxNameBytes} bytes`);
      if (n < 4 + toLen) return fail('bad_frame', TRUNCATED);
      const to = readUtf8(bytes, 2, toLen);
      if (to === undefined || hasControl(to)) return fail('bad_field', 'whisper target is not a name');
      const len = view.getUint16(2 + toLen, true);
      if (n !== 4 + toLen + len) return fail('bad_frame', 'whisper length mismatch');
      if (len > LIMITS.maxChatBytes) return fail('bad_field', `whisper longer than ${LIMITS.maxChatBytes} bytes`);
      const text = readUtf8(bytes, 4 + toLen, len);
      if (text === undefined) return fail('bad_field', 'whisper is not UTF-8');
      if (text.trim().length === 0 || hasControl(text)) return fail('chat_rejected', 'whisper is empty or has control characters');
      return { type: 'whisper', to, text };
    }
    case CLIENT_TYPE.pickup: {
      if (n < 6) return fail('bad_frame', TRUNCATED);
      const seq = view.getUint32(1, true);
      const len = bytes[5]!;
      if (n !== 6 + len) return fail('bad_frame', 'pickup length mismatch');
      if (len === 0 || len > LIMITS.maxItemBytes) return fail('bad_field', `item id must be 1-${LIMITS.maxItemBytes} bytes`);
      const item = readUtf8(bytes, 6, len);
      if (item === undefined || !ITEM_ID.test(item)) return fail('bad_field', 'item id must be a-z, 0-9 and _ starting with a letter');
      return { type: 'pickup', seq, item };
    }
    default:
      return fail('unknown_type', `message type ${type} unknown`);
  }
}

// ---------------------------------------------------------------------------------------------
// Server → client encoding (appends to a per-connection writer; the server batches)

export function writeWelcome(w: FrameWriter, m: Omit<WelcomeMessage, 'type'>): void {
  w.u8(SERVER_TYPE.welcome);
  w.u16(m.version);
  w.u32(m.playerId);
  w.str(m.name, LIMITS.maxNameBytes, 1);
  w.str(m.serverId, 255, 1);
  w.u16(m.zone);
  w.u16(m.zoneCount);
  w.u32(m.zoneSize);
  w.f32(m.x);
  w.f32(m.y);
  w.u16(m.hp);
  w.u16(m.maxHp);
  w.u8(m.tickRate);
  w.u8(m.patchRate);
  w.u16(m.interestRadius);
}

export function writeJoined(w: FrameWriter, zone: number, zoneSize: number, x: number, y: number): void {
  w.u8(SERVER_TYPE.joined);
  w.u16(zone);
  w.u32(zoneSize);
  w.f32(x);
  w.f32(y);
}

export function writeAck(w: FrameWriter, seq: number, x: number, y: number, clientTime: number): void {
  w.ensure(25);
  const v = w.view;
  const at = w.length;
  w.bytes[at] = SERVER_TYPE.ack;
  v.setUint32(at + 1, seq, true);
  v.setFloat32(at + 5, x, true);
  v.setFloat32(at + 9, y, true);
  v.setFloat64(at + 13, clientTime, true);
  w.length = at + 21;
}

/**
 * Starts a snapshot for `count` entities; write exactly `count` records with `writeSnapshotEntity`
 * next (the writer reserves the room once).
 */
export function beginSnapshot(w: FrameWriter, tick: number, serverTime: number, zoneSize: number, count: number): void {
  w.ensure(SNAPSHOT_HEADER_BYTES + count * SNAPSHOT_ENTITY_BYTES);
  const v = w.view;
  const at = w.length;
  w.bytes[at] = SERVER_TYPE.snapshot;
  v.setUint32(at + 1, tick, true);
  v.setFloat64(at + 5, serverTime, true);
  v.setUint32(at + 13, zoneSize, true);
  v.setUint16(at + 17, count, true);
  w.length = at + SNAPSHOT_HEADER_BYTES;
}

/**
 * Encodes one snapshot record into `out` at `at` (the world pre-encodes every entity once per patch
 * and copies the bytes to each viewer).
 */
export function encodeSnapshotRecord(out: Uint8Array, at: number, id: number, x: number, y: number, zoneSize: number, hp: number, flags: number): void {
  out[at] = id & 0xff;
  out[at + 1] = (id >>> 8) & 0xff;
  out[at + 2] = (id >>> 16) & 0xff;
  out[at + 3] = id >>> 24;
  const qx = quantize(x, zoneSize);
  const qy = quantize(y, zoneSize);
  out[at + 4] = qx & 0xff;
  out[at + 5] = qx >>> 8;
  out[at + 6] = qy & 0xff;
  out[at + 7] = qy >>> 8;
  out[at + 8] = hp > 255 ? 255 : hp < 0 ? 0 : hp;
  out[at + 9] = flags;
}

/** One snapshot record; room was reserved by `beginSnapshot`. */
export function writeSnapshotEntity(w: FrameWriter, id: number, x: number, y: number, zoneSize: number, hp: number, flags: number): void {
  encodeSnapshotRecord(w.bytes, w.length, id, x, y, zoneSize, hp, flags);
  w.length += SNAPSHOT_ENTITY_BYTES;
}

export function writeAppear(w: FrameWriter, id: number, maxHp: number, name: string): void {
  w.u8(SERVER_TYPE.appear);
  w.u32(id);
  w.u16(maxHp);
  w.str(name, LIMITS.maxNameBytes, 1);
}

export function writeChat(w: FrameWriter, channel: ChatChannel, fromId: number, fromName: string, text: string): void {
  w.u8(SERVER_TYPE.chat);
  w.u8(CHAT_CHANNELS.indexOf(channel));
  w.u32(fromId);
  w.str(fromName, LIMITS.maxNameBytes, 1);
  w.str(text, LIMITS.maxChatBytes, 2);
}

export function writeCombat(w: FrameWriter, kind: CombatKind, attacker: number, target: number, skill: Skill, damage: number, hp: number, x: number, y: number): void {
  w.u8(SERVER_TYPE.combat);
  w.u8(COMBAT_KINDS.indexOf(kind));
  w.u32(attacker);
  w.u32(target);
  w.u8(SKILLS.indexOf(skill));
  w.u16(damage);
  w.u16(hp);
  w.f32(x);
  w.f32(y);
}

export function writeError(w: FrameWriter, code: ErrorCode, ref: number, message: string): void {
  w.u8(SERVER_TYPE.error);
  w.u8(ERROR_CODES[code]);
  w.u32(ref >>> 0);
  w.str(message, LIMITS.maxMessageBytes, 1);
}

export function writeReconnect(w: FrameWriter, reason: ReconnectReason, afterMs: number): void {
  w.u8(SERVER_TYPE.reconnect);
  w.u8(RECONNECT_REASONS.indexOf(reason));
  w.u32(afterMs);
}

export function writePong(w: FrameWriter, nonce: number, clientTime: number, serverTime: number): void {
  w.u8(SERVER_TYPE.pong);
  w.u32(nonce);
  w.f64(clientTime);
  w.f64(serverTime);
}

export function writeGranted(w: FrameWriter, seq: number, item: string, quantity: number): void {
  w.u8(SERVER_TYPE.granted);
  w.u32(seq >>> 0);
  w.str(item, LIMITS.maxItemBytes, 1);
  w.u32(Math.min(0xffffffff, quantity));
}

/** Writes at most LIMITS.maxInventoryItems entries. */
export function writeInventory(w: FrameWriter, items: readonly InventoryEntry[]): void {
  const count = Math.min(items.length, LIMITS.maxInventoryItems);
  w.u8(SERVER_TYPE.inventory);
  w.u16(count);
  for (let i = 0; i < count; i++) {
    w.str(items[i]!.item, LIMITS.maxItemBytes, 1);
    w.u32(Math.min(0xffffffff, items[i]!.quantity));
  }
}

export function writeTransfer(w: FrameWriter, zone: number, url: string): void {
  w.u8(SERVER_TYPE.transfer);
  w.u16(zone);
  w.str(url, LIMITS.maxUrlBytes, 1);
}

/** Appends any server message (convenience for tests and cold paths; the hot paths call the writers). */
export function writeServerMessage(w: FrameWriter, m: ServerMessage): void {
  switch (m.type) {
    case 'welcome':
      return writeWelcome(w, m);
    case 'joined':
      return writeJoined(w, m.zone, m.zoneSize, m.x, m.y);
    case 'ack':
      return writeAck(w, m.seq, m.x, m.y, m.clientTime);
    case 'snapshot': {
      beginSnapshot(w, m.tick, m.serverTime, m.zoneSize, m.count);
      const e: SnapshotEntity = { id: 0, x: 0, y: 0, hp: 0, flags: 0 };
      for (let i = 0; i < m.count; i++) {
        readSnapshotEntity(m, i, e);
        writeSnapshotEntity(w, e.id, e.x, e.y, m.zoneSize, e.hp, e.flags);
      }
      return;
    }
    case 'appear':
      return writeAppear(w, m.id, m.maxHp, m.name);
    case 'chat':
      return writeChat(w, m.channel, m.fromId, m.fromName, m.text);
    case 'combat':
      return writeCombat(w, m.kind, m.attacker, m.target, m.skill, m.damage, m.hp, m.x, m.y);
    case 'error':
      return writeError(w, m.name ?? 'internal', m.ref, m.message);
    case 'reconnect':
      return writeReconnect(w, m.reason, m.afterMs);
    case 'pong':
      return writePong(w, m.nonce, m.clientTime, m.serverTime);
    case 'granted':
      return writeGranted(w, m.seq, m.item, m.quantity);
    case 'inventory':
      return writeInventory(w, m.items);
    case 'transfer':
      return writeTransfer(w, m.zone, m.url);
  }
}

/** Encodes server messages into one fresh frame. */
export function encodeServerFrame(messages: readonly ServerMessage[]): Uint8Array {
  const w = new FrameWriter();
  for (const m of messages) writeServerMessage(w, m);
  return w.copy();
}

// ---------------------------------------------------------------------------------------------
// Server → client decoding (runs in clients)

/** Reads snapshot record `index` into `out` (reused by the caller to avoid allocation). */
export function readSnapshotEntity(s: SnapshotMessage, index: number, out: SnapshotEntity): SnapshotEntity {
  const at = s.offset + index * SNAPSHOT_ENTITY_BYTES;
  const v = s.view;
  const scale = s.zoneSize / Q;
  out.id = v.getUint32(at, true);
  out.x = v.getUint16(at + 4, true) * scale;
  out.y = v.getUint16(at + 6, true) * scale;
  out.hp = v.getUint8(at + 8);
  out.flags = v.getUint8(at + 9);
  return out;
}

class Reader {
  at = 0;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  has(n: number): boolean {
    return this.at + n <= this.bytes.length;
  }
  u8(): number {
    return this.bytes[this.at++]!;
  }
  u16(): number {
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  f32(): number {
    const v = this.view.getFloat32(this.at, true);
    this.at += 4;
    return v;
  }
  f64(): number {
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
  /** undefined when truncated or not UTF-8. */
  str(prefixBytes: 1 | 2): string | undefined {
    if (!this.has(prefixBytes)) return undefined;
    const len = prefixBytes === 1 ? this.u8() : this.u16();
    if (!this.has(len)) return undefined;
    const s = readUtf8(this.bytes, this.at, len);
    this.at += len;
    return s;
  }
}

const FIXED_SERVER_SIZES: Record<number, number> = {
  [SERVER_TYPE.joined]: 15,
  [SERVER_TYPE.ack]: 21,
  [SERVER_TYPE.combat]: 23,
  [SERVER_TYPE.reconnect]: 6,
  [SERVER_TYPE.pong]: 21,
};

function readServerMessage(r: Reader): ServerMessage | DecodeFailure {
  const start = r.at;
  const type = r.u8();
  const fixed = FIXED_SERVER_SIZES[type];
  if (fixed !== undefined && !r.has(fixed - 1)) return fail('bad_frame', TRUNCATED);
  switch (type) {
    case SERVER_TYPE.welcome: {
      if (!r.has(6)) return fail('bad_frame', TRUNCATED);
      const version = r.u16();
      const playerId = r.u32();
      const name = r.str(1);
      const serverId = r.str(1);
      if (name === undefined || serverId === undefined || !r.has(24)) return fail('bad_frame', TRUNCATED);
      return {
        type: 'welcome', version, playerId, name, serverId,
        zone: r.u16(), zoneCount: r.u16(), zoneSize: r.u32(), x: r.f32(), y: r.f32(), hp: r.u16(), maxHp: r.u16(),
        tickRate: r.u8(), patchRate: r.u8(), interestRadius: r.u16(),
      };
    }
    case SERVER_TYPE.joined:
      return { type: 'joined', zone: r.u16(), zoneSize: r.u32(), x: r.f32(), y: r.f32() };
    case SERVER_TYPE.ack:
      return { type: 'ack', seq: r.u32(), x: r.f32(), y: r.f32(), clientTime: r.f64() };
    case SERVER_TYPE.snapshot: {
      if (!r.has(SNAPSHOT_HEADER_BYTES - 1)) return fail('bad_frame', TRUNCATED);
      const tick = r.u32();
      const serverTime = r.f64();
      const zoneSize = r.u32();
      const count = r.u16();
      if (!r.has(count * SNAPSHOT_ENTITY_BYTES)) return fail('bad_frame', TRUNCATED);
      const offset = r.at;
      r.at += count * SNAPSHOT_ENTITY_BYTES;
      return { type: 'snapshot', tick, serverTime, zoneSize, count, offset, view: r.view };
    }
    case SERVER_TYPE.appear: {
      if (!r.has(6)) return fail('bad_frame', TRUNCATED);
      const id = r.u32();
      const maxHp = r.u16();
      const name = r.str(1);
      if (name === undefined) return fail('bad_frame', TRUNCATED);
      return { type: 'appear', id, maxHp, name };
    }
    case SERVER_TYPE.chat: {
      if (!r.has(5)) return fail('bad_frame', TRUNCATED);
      const channel = CHAT_CHANNELS[r.u8()];
      const fromId = r.u32();
      const fromName = r.str(1);
      const text = r.str(2);
      if (channel === undefined) return fail('bad_field', 'chat channel unknown');
      if (fromName === undefined || text === undefined) return fail('bad_frame', TRUNCATED);
      return { type: 'chat', channel, fromId, fromName, text };
    }
    case SERVER_TYPE.combat: {
      const kind = COMBAT_KINDS[r.u8()];
      const attacker = r.u32();
      const target = r.u32();
      const skill = SKILLS[r.u8()];
      if (kind === undefined || skill === undefined) return fail('bad_field', 'combat kind or skill unknown');
      return { type: 'combat', kind, attacker, target, skill, damage: r.u16(), hp: r.u16(), x: r.f32(), y: r.f32() };
    }
    case SERVER_TYPE.error: {
      if (!r.has(5)) return fail('bad_frame', TRUNCATED);
      const code = r.u8();
      const ref = r.u32();
      const message = r.str(1);
      if (message === undefined) return fail('bad_frame', TRUNCATED);
      return { type: 'error', code, name: errorCodeName(code), ref, message };
    }
    case SERVER_TYPE.reconnect: {
      const reason = RECONNECT_REASONS[r.u8()];
      if (reason === undefined) return fail('bad_field', 'reconnect reason unknown');
      return { type: 'reconnect', reason, afterMs: r.u32() };
    }
    case SERVER_TYPE.pong:
      return { type: 'pong', nonce: r.u32(), clientTime: r.f64(), serverTime: r.f64() };
    case SERVER_TYPE.granted: {
      if (!r.has(5)) return fail('bad_frame', TRUNCATED);
      const seq = r.u32();
      const item = r.str(1);
      if (item === undefined || !r.has(4)) return fail('bad_frame', TRUNCATED);
      return { type: 'granted', seq, item, quantity: r.u32() };
    }
    case SERVER_TYPE.inventory: {
      if (!r.has(2)) return fail('bad_frame', TRUNCATED);
      const count = r.u16();
      const items: InventoryEntry[] = [];
      for (let i = 0; i < count; i++) {
        const item = r.str(1);
        if (item === undefined || !r.has(4)) return fail('bad_frame', TRUNCATED);
        items.push({ item, quantity: r.u32() });
      }
      return { type: 'inventory', items };
    }
    case SERVER_TYPE.transfer: {
      if (!r.has(3)) return fail('bad_frame', TRUNCATED);
      const zone = r.u16();
      const url = r.str(1);
      if (url === undefined) return fail('bad_frame', TRUNCATED);
      return { type: 'transfer', zone, url };
    }
    default:
      return fail('unknown_type', `server message type ${type} at byte ${start} unknown`);
  }
}

/**
 * Where the server message starting at `at` ends (the offset of the next one), reading only the
 * lengths it needs; -1 when the message is truncated or its type unknown. For clients that skip
 * what they do not use (the load generator's bots) instead of decoding every message.
 */
export function serverMessageEnd(bytes: Uint8Array, at: number): number {
  const n = bytes.length;
  if (at >= n) return -1;
  const type = bytes[at]!;
  const fixed = FIXED_SERVER_SIZES[type];
  let end: number;
  if (fixed !== undefined) end = at + fixed;
  else {
    // Position of a length-prefixed string's end, from its u8 prefix at `p`.
    const str8 = (p: number): number => (p < n ? p + 1 + bytes[p]! : n + 1);
    switch (type) {
      case SERVER_TYPE.snapshot:
        if (at + SNAPSHOT_HEADER_BYTES > n) return -1;
        end = at + SNAPSHOT_HEADER_BYTES + (bytes[at + 17]! | (bytes[at + 18]! << 8)) * SNAPSHOT_ENTITY_BYTES;
        break;
      case SERVER_TYPE.appear:
        end = str8(at + 7);
        break;
      case SERVER_TYPE.chat: {
        const p = str8(at + 6);
        end = p + 2 <= n ? p + 2 + (bytes[p]! | (bytes[p + 1]! << 8)) : n + 1;
        break;
      }
      case SERVER_TYPE.error:
        end = str8(at + 6);
        break;
      case SERVER_TYPE.welcome:
        end = str8(str8(at + 7)) + 24;
        break;
      case SERVER_TYPE.granted:
        end = str8(at + 5) + 4;
        break;
      case SERVER_TYPE.transfer:
        end = str8(at + 3);
        break;
      case SERVER_TYPE.inventory: {
        if (at + 3 > n) return -1;
        const count = bytes[at + 1]! | (bytes[at + 2]! << 8);
        end = at + 3;
        for (let i = 0; i < count && end <= n; i++) end = str8(end) + 4;
        break;
      }
      default:
        return -1;
    }
  }
  return end <= n ? end : -1;
}

/**
 * Decodes a server frame into its messages, in order. A malformed frame yields a `DecodeFailure`
 * (messages before the fault are dropped with it); never throws.
 */
export function decodeServerFrame(data: ArrayBuffer | ArrayBufferView): ServerMessage[] | DecodeFailure {
  const bytes = asBytes(data);
  if (bytes.length === 0) return fail('bad_frame', 'empty frame');
  if (bytes.length > LIMITS.maxServerFrame) return fail('too_large', `frame of ${bytes.length} bytes`);
  const r = new Reader(bytes);
  const out: ServerMessage[] = [];
  while (r.at < bytes.length) {
    const m = readServerMessage(r);
    if (m.type === 'invalid') return m;
    out.push(m);
  }
  return out;
}

/** True when a decoder returned a failure. */
export function isDecodeFailure(v: unknown): v is DecodeFailure {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'invalid';
}
