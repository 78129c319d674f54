/**
 * Server → client frames: one or more messages back to back (the server batches per connection per
 * flush), each self-delimiting. The server appends them to a per-connection writer; clients decode
 * whole frames, or skip through them (`serverMessageEnd`) reading only what they use.
 */
import { ERROR_CODES, errorCodeName, type ErrorCode } from './errors.ts';
import { ByteReader, FrameWriter, TRUNCATED, asBytes, fail } from './bytes.ts';
import {
  CHAT_CHANNELS,
  COMBAT_KINDS,
  LIMITS,
  RECONNECT_REASONS,
  SEND_PROFILES,
  SERVER_TYPE,
  SKILLS,
  SNAPSHOT_ENTITY_BYTES,
  SNAPSHOT_HEADER_BYTES,
  type ChatChannel,
  type CombatKind,
  type DecodeFailure,
  type InventoryEntry,
  type ReconnectReason,
  type ServerMessage,
  type SnapshotEntity,
  type SnapshotMessage,
  type WelcomeMessage,
  type Skill,
} from './messages.ts';

const Q = 65535;

/** A coordinate in [0, size] as the u16 a snapshot carries. */
export function quantize(v: number, size: number): number {
  const q = Math.round((v / size) * Q);
  return q < 0 ? 0 : q > Q ? Q : q;
}

// Encoding (appends to a per-connection writer; the server batches)

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
  w.u8(SEND_PROFILES.indexOf(m.sendProfile));
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

// Decoding (runs in clients)

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

/** Bytes of a welcome after its two strings: zone … interestRadius, then the send profile. */
const WELCOME_TAIL_BYTES = 25;

const FIXED_SERVER_SIZES: Record<number, number> = {
  [SERVER_TYPE.joined]: 15,
  [SERVER_TYPE.ack]: 21,
  [SERVER_TYPE.combat]: 23,
  [SERVER_TYPE.reconnect]: 6,
  [SERVER_TYPE.pong]: 21,
};

function readServerMessage(r: ByteReader): ServerMessage | DecodeFailure {
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
      if (name === undefined || serverId === undefined || !r.has(WELCOME_TAIL_BYTES)) return fail('bad_frame', TRUNCATED);
      const fields = {
        zone: r.u16(), zoneCount: r.u16(), zoneSize: r.u32(), x: r.f32(), y: r.f32(), hp: r.u16(), maxHp: r.u16(),
        tickRate: r.u8(), patchRate: r.u8(), interestRadius: r.u16(),
      };
      const sendProfile = SEND_PROFILES[r.u8()];
      if (sendProfile === undefined) return fail('bad_field', 'send profile unknown');
      return { type: 'welcome', version, playerId, name, serverId, ...fields, sendProfile };
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
        end = str8(str8(at + 7)) + WELCOME_TAIL_BYTES;
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
  const r = new ByteReader(bytes);
  const out: ServerMessage[] = [];
  while (r.at < bytes.length) {
    const m = readServerMessage(r);
    if (m.type === 'invalid') return m;
    out.push(m);
  }
  return out;
}
