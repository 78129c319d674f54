import { describe, expect, it } from 'vitest';
import {
  CLIENT_TYPE,
  FrameWriter,
  LIMITS,
  PROTOCOL_VERSION,
  SNAPSHOT_ENTITY_BYTES,
  SNAPSHOT_HEADER_BYTES,
  quantize,
  beginSnapshot,
  decodeClientMessage,
  decodeServerFrame,
  encodeClientMessage,
  encodeServerFrame,
  isDecodeFailure,
  readSnapshotEntity,
  serverMessageEnd,
  writeSnapshotEntity,
  type ClientMessage,
  type ServerMessage,
  type SnapshotEntity,
} from '../../protocol/codec.ts';
import { ERROR_CODES, errorCodeName } from '../../protocol/errors.ts';

const f32 = (v: number): number => Math.fround(v);

const clientMessages: ClientMessage[] = [
  { type: 'hello', version: PROTOCOL_VERSION, token: 'v1.eyJhIjoiYiJ9.c2ln' },
  { type: 'hello', version: PROTOCOL_VERSION, token: '' },
  { type: 'join', zone: 0 },
  { type: 'join', zone: LIMITS.maxZone },
  { type: 'move', seq: 4294967295, x: f32(12.5), y: f32(999.25), clientTime: 123456.789, rtt: 12.345 },
  { type: 'move', seq: 1, x: 0, y: LIMITS.maxCoord, clientTime: 0, rtt: 0 },
  { type: 'chat', channel: 'zone', text: 'hello world' },
  { type: 'chat', channel: 'global', text: '안녕하세요 👋 über' },
  { type: 'attack', target: 77, skill: 'strike' },
  { type: 'attack', target: 4294967295, skill: 'bolt' },
  { type: 'ping', nonce: 9, clientTime: 1.5 },
  { type: 'whisper', to: 'ann', text: 'psst 👋' },
  { type: 'pickup', seq: 7, item: 'herb' },
  { type: 'pickup', seq: 4294967295, item: 'a'.repeat(LIMITS.maxItemBytes) },
];

describe('client messages', () => {
  it.each(clientMessages.map((m) => [m.type, m] as const))('%s survives an encode/decode round trip', (_t, m) => {
    expect(decodeClientMessage(encodeClientMessage(m))).toEqual(m);
  });

  it('decodes from an ArrayBuffer, a Buffer slice and a DataView alike', () => {
    const frame = encodeClientMessage({ type: 'join', zone: 3 });
    const padded = new Uint8Array(frame.length + 10);
    padded.set(frame, 5);
    expect(decodeClientMessage((frame.buffer as ArrayBuffer).slice(0, frame.length))).toEqual({ type: 'join', zone: 3 });
    expect(decodeClientMessage(Buffer.from(padded.buffer, 5, frame.length))).toEqual({ type: 'join', zone: 3 });
    expect(decodeClientMessage(new DataView(padded.buffer, 5, frame.length))).toEqual({ type: 'join', zone: 3 });
  });
});

function frame(...parts: Array<[kind: 'u8' | 'u16' | 'u32' | 'f32' | 'f64', value: number] | Uint8Array>): Uint8Array {
  const w = new FrameWriter();
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      w.ensure(p.length);
      w.bytes.set(p, w.length);
      w.length += p.length;
    } else w[p[0]](p[1]);
  }
  return w.copy();
}
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const rejections: Array<[string, Uint8Array, keyof typeof ERROR_CODES]> = [
  ['an empty frame', new Uint8Array(0), 'bad_frame'],
  ['an oversized frame', new Uint8Array(LIMITS.maxClientFrame + 1).fill(CLIENT_TYPE.chat), 'too_large'],
  ['an unknown type', frame(['u8', 200]), 'unknown_type'],
  ['a server type sent by a client', frame(['u8', 66], ['u32', 1]), 'unknown_type'],
  ['a hello of another protocol version', frame(['u8', 1], ['u16', PROTOCOL_VERSION + 1], ['u16', 0]), 'bad_version'],
  ['a hello whose token length lies', frame(['u8', 1], ['u16', PROTOCOL_VERSION], ['u16', 10], utf8('abc')), 'bad_frame'],
  ['a hello with invalid UTF-8', frame(['u8', 1], ['u16', PROTOCOL_VERSION], ['u16', 2], new Uint8Array([0xc3, 0x28])), 'bad_field'],
  ['a truncated move', frame(['u8', 3], ['u32', 1], ['f32', 1]), 'bad_frame'],
  ['a move with trailing bytes', frame(['u8', 3], ['u32', 1], ['f32', 1], ['f32', 1], ['f64', 1], ['u32', 0], ['u8', 0]), 'bad_frame'],
  ['a move to NaN', frame(['u8', 3], ['u32', 1], ['f32', Number.NaN], ['f32', 1], ['f64', 1], ['u32', 0]), 'bad_field'],
  ['a move to infinity', frame(['u8', 3], ['u32', 1], ['f32', 1], ['f32', Number.POSITIVE_INFINITY], ['f64', 1], ['u32', 0]), 'bad_field'],
  ['a move to a negative coordinate', frame(['u8', 3], ['u32', 1], ['f32', -1], ['f32', 1], ['f64', 1], ['u32', 0]), 'bad_field'],
  ['a move beyond the largest zone', frame(['u8', 3], ['u32', 1], ['f32', LIMITS.maxCoord + 1], ['f32', 1], ['f64', 1], ['u32', 0]), 'bad_field'],
  ['a move with a negative clientTime', frame(['u8', 3], ['u32', 1], ['f32', 1], ['f32', 1], ['f64', -5], ['u32', 0]), 'bad_field'],
  ['a join to a zone beyond the limit', frame(['u8', 2], ['u16', LIMITS.maxZone + 1]), 'bad_field'],
  ['a chat on an unknown channel', frame(['u8', 4], ['u8', 7], ['u16', 2], utf8('hi')), 'bad_field'],
  ['a chat longer than allowed', frame(['u8', 4], ['u8', 0], ['u16', LIMITS.maxChatBytes + 1], utf8('x'.repeat(LIMITS.maxChatBytes + 1))), 'bad_field'],
  ['a blank chat', frame(['u8', 4], ['u8', 0], ['u16', 3], utf8('   ')), 'chat_rejected'],
  ['a chat with control characters', frame(['u8', 4], ['u8', 0], ['u16', 3], utf8('a\nb')), 'chat_rejected'],
  ['an attack with an unknown skill', frame(['u8', 5], ['u32', 5], ['u8', 99]), 'bad_field'],
  ['an attack on entity 0', frame(['u8', 5], ['u32', 0], ['u8', 0]), 'bad_field'],
  ['a ping with NaN time', frame(['u8', 6], ['u32', 1], ['f64', Number.NaN]), 'bad_field'],
  ['a chat on the whisper channel (whispers name their target)', frame(['u8', 4], ['u8', 2], ['u16', 2], utf8('hi')), 'bad_field'],
  ['a whisper to nobody', frame(['u8', 7], ['u8', 0], ['u16', 2], utf8('hi')), 'bad_field'],
  ['a whisper whose text length lies', frame(['u8', 7], ['u8', 3], utf8('ann'), ['u16', 9], utf8('hi')), 'bad_frame'],
  ['a blank whisper', frame(['u8', 7], ['u8', 3], utf8('ann'), ['u16', 2], utf8('  ')), 'chat_rejected'],
  ['a whisper to a name with control characters', frame(['u8', 7], ['u8', 2], utf8('a\n'), ['u16', 2], utf8('hi')), 'bad_field'],
  ['a pickup of an empty item id', frame(['u8', 8], ['u32', 1], ['u8', 0]), 'bad_field'],
  ['a pickup of an item id with capitals', frame(['u8', 8], ['u32', 1], ['u8', 4], utf8('Herb')), 'bad_field'],
  ['a pickup whose item length lies', frame(['u8', 8], ['u32', 1], ['u8', 9], utf8('herb')), 'bad_frame'],
  ['a pickup of a too long item id', frame(['u8', 8], ['u32', 1], ['u8', 33], utf8('a'.repeat(33))), 'bad_field'],
];

describe('client message validation', () => {
  it.each(rejections)('rejects %s', (_name, bytes, code) => {
    const result = decodeClientMessage(bytes);
    expect(isDecodeFailure(result)).toBe(true);
    expect(result).toMatchObject({ type: 'invalid', code });
  });

  it('never throws on random bytes and answers every frame with a message or a coded failure', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const codes = new Set<string>();
    for (let i = 0; i < 20000; i++) {
      const len = Math.floor(rand() * 40);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rand() * 256);
      if (len > 0 && rand() < 0.7) bytes[0] = 1 + Math.floor(rand() * 6); // mostly known types
      const r = decodeClientMessage(bytes);
      if (isDecodeFailure(r)) {
        expect(ERROR_CODES[r.code]).toBeGreaterThan(0);
        codes.add(r.code);
      } else expect(Object.keys(CLIENT_TYPE)).toContain(r.type);
    }
    // Random bytes hit every structural check; none produce a code outside the validation set.
    expect([...codes].sort()).toEqual(['bad_field', 'bad_frame', 'bad_version', 'unknown_type']);
  });
});

const serverMessages: ServerMessage[] = [
  {
    type: 'welcome', version: PROTOCOL_VERSION, playerId: 42, name: 'guest-42', serverId: 'mmo-0', zone: 2, zoneCount: 4,
    zoneSize: 1000, x: f32(10.5), y: f32(20.25), hp: 100, maxHp: 100, tickRate: 20, patchRate: 10, interestRadius: 150,
    sendProfile: 'mmo',
  },
  { type: 'joined', zone: 3, zoneSize: 1000, x: 500, y: 500 },
  { type: 'ack', seq: 99, x: f32(1.5), y: f32(2.5), clientTime: 1234.5678 },
  { type: 'appear', id: 7, maxHp: 100, name: 'Zoë' },
  { type: 'chat', channel: 'global', fromId: 0, fromName: 'far away', text: 'hi 👋' },
  { type: 'combat', kind: 'hit', attacker: 1, target: 2, skill: 'bolt', damage: 12, hp: 88, x: 3, y: 4 },
  { type: 'combat', kind: 'respawn', attacker: 1, target: 2, skill: 'strike', damage: 0, hp: 100, x: 500, y: 500 },
  { type: 'error', code: ERROR_CODES.rate_limited, name: 'rate_limited', ref: 5, message: 'slow down' },
  { type: 'reconnect', reason: 'draining', afterMs: 1500 },
  { type: 'pong', nonce: 3, clientTime: 1.25, serverTime: 99.5 },
  { type: 'chat', channel: 'whisper', fromId: 0, fromName: 'ann', text: 'psst' },
  { type: 'granted', seq: 12, item: 'herb', quantity: 3 },
  { type: 'inventory', items: [] },
  { type: 'inventory', items: [{ item: 'herb', quantity: 3 }, { item: 'ore', quantity: 4294967295 }] },
  { type: 'transfer', zone: 3, url: 'https://zone-3.game.example.org' },
];

describe('server frames', () => {
  it('carry several messages in order through a round trip', () => {
    const decoded = decodeServerFrame(encodeServerFrame(serverMessages));
    expect(decoded).toEqual(serverMessages);
  });

  it('carry snapshots whose entities are read back exactly', () => {
    const w = new FrameWriter(16); // forces growth
    const entities: SnapshotEntity[] = [];
    const size = 1000;
    for (let i = 0; i < 100; i++) entities.push({ id: i + 1, x: i * 3.5, y: size - i * 0.25, hp: i, flags: i % 4 });
    beginSnapshot(w, 77, 5000.5, size, entities.length);
    for (const e of entities) writeSnapshotEntity(w, e.id, e.x, e.y, size, e.hp, e.flags);
    w.u8(66); // an ack after the snapshot in the same frame
    w.u32(1);
    w.f32(2);
    w.f32(3);
    w.f64(4);
    const decoded = decodeServerFrame(w.copy());
    if (!Array.isArray(decoded)) throw new Error(decoded.detail);
    expect(decoded.map((m) => m.type)).toEqual(['snapshot', 'ack']);
    const snap = decoded[0]!;
    if (snap.type !== 'snapshot') throw new Error('not a snapshot');
    expect([snap.tick, snap.serverTime, snap.zoneSize, snap.count]).toEqual([77, 5000.5, size, 100]);
    const out: SnapshotEntity = { id: 0, x: 0, y: 0, hp: 0, flags: 0 };
    const step = size / 65535;
    entities.forEach((e, i) => {
      const r = readSnapshotEntity(snap, i, out);
      expect([r.id, r.hp, r.flags]).toEqual([e.id, e.hp, e.flags]);
      expect(Math.abs(r.x - e.x)).toBeLessThanOrEqual(step / 2);
      expect(Math.abs(r.y - e.y)).toBeLessThanOrEqual(step / 2);
    });
    expect(w.length).toBe(SNAPSHOT_HEADER_BYTES + 100 * SNAPSHOT_ENTITY_BYTES + 21);
  });

  it('quantize positions to within half a step of the zone size / 65535, clamped to the zone', () => {
    for (const size of [64, 1000, 100000]) {
      const step = size / 65535;
      for (const v of [0, size / 3, size * 0.999, size]) expect(Math.abs(quantize(v, size) * step - v)).toBeLessThanOrEqual(step / 2 + 1e-9);
      expect(quantize(-5, size)).toBe(0);
      expect(quantize(size * 2, size)).toBe(65535);
    }
  });

  it('are rejected, not thrown, when truncated anywhere but between two messages', () => {
    const bytes = encodeServerFrame(serverMessages);
    // Where each message ends: a cut there is a valid, shorter frame of the messages before it.
    const ends = new Map<number, number>();
    let at = 0;
    serverMessages.forEach((m, i) => ends.set((at += encodeServerFrame([m]).length), i + 1));
    expect(at).toBe(bytes.length);
    let refused = 0;
    let shorter = 0;
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = decodeServerFrame(bytes.subarray(0, cut));
      const whole = ends.get(cut);
      if (whole === undefined) {
        expect(r, `cut at ${cut}`).toMatchObject({ type: 'invalid', code: 'bad_frame' });
        refused++;
      } else {
        expect(r, `cut at ${cut}`).toEqual(serverMessages.slice(0, whole));
        shorter++;
      }
    }
    // Every cut inside a message is refused; only the boundaries between messages decode.
    expect(shorter).toBe(serverMessages.length - 1);
    expect(refused).toBe(bytes.length - 1 - (serverMessages.length - 1));
    expect(refused).toBeGreaterThan(200);
  });

  it('can be walked message by message without decoding (serverMessageEnd)', () => {
    const w = new FrameWriter();
    beginSnapshot(w, 1, 2, 1000, 3);
    for (let i = 0; i < 3; i++) writeSnapshotEntity(w, i + 1, i, i, 1000, 50, 0);
    const messages = [...serverMessages];
    const bytes = new Uint8Array([...encodeServerFrame(messages), ...w.copy()]);
    const ends: number[] = [];
    for (let at = 0; at < bytes.length; ) {
      const end = serverMessageEnd(bytes, at);
      expect(end).toBeGreaterThan(at);
      ends.push(end);
      at = end;
    }
    expect(ends).toHaveLength(messages.length + 1);
    // Each boundary is where the real decoder says the message ends.
    let at = 0;
    for (const m of messages) {
      const one = encodeServerFrame([m]);
      expect(serverMessageEnd(bytes, at)).toBe(at + one.length);
      at += one.length;
    }
    // Truncated anywhere inside the last message, or an unknown type: -1, never an overrun.
    for (let cut = at + 1; cut < bytes.length; cut++) expect(serverMessageEnd(bytes.subarray(0, cut), at)).toBe(-1);
    expect(serverMessageEnd(new Uint8Array([200, 0, 0]), 0)).toBe(-1);
    expect(serverMessageEnd(bytes, bytes.length)).toBe(-1);
  });

  it('truncates over-long strings at a character boundary instead of corrupting the frame', () => {
    const decoded = decodeServerFrame(encodeServerFrame([{ type: 'appear', id: 1, maxHp: 5, name: 'é'.repeat(100) }]));
    if (!Array.isArray(decoded)) throw new Error(decoded.detail);
    const m = decoded[0]!;
    expect(m.type === 'appear' && m.name).toBe('é'.repeat(LIMITS.maxNameBytes / 2));
  });
});

describe('error codes', () => {
  it('are unique numbers that map back to their names', () => {
    const values = Object.values(ERROR_CODES);
    expect(new Set(values).size).toBe(values.length);
    for (const [name, value] of Object.entries(ERROR_CODES)) expect(errorCodeName(value)).toBe(name);
    expect(errorCodeName(250)).toBeUndefined();
  });
});
