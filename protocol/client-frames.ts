/**
 * Client → server frames: one message per frame. Clients encode them; the server decodes and
 * validates every inbound frame (size, type, field ranges, UTF-8) before it touches the world.
 */
import { FrameWriter, TRUNCATED, asBytes, fail, readUtf8 } from './bytes.ts';
import {
  CHAT_CHANNELS,
  CLIENT_TYPE,
  LIMITS,
  PROTOCOL_VERSION,
  SKILLS,
  type ClientMessage,
  type DecodeFailure,
} from './messages.ts';

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
      if (version !== PROTOCOL_VERSION) {
        return fail('bad_version', `this client speaks protocol ${version}, this server speaks ${PROTOCOL_VERSION}: update the client (reload the page)`);
      }
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
