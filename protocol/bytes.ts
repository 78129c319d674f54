/**
 * Bytes in and out: a growable writer messages are appended to, a bounds-aware reader, and the
 * helpers every decoder shares (UTF-8, failures). Little-endian throughout; only
 * ArrayBuffer/DataView/Uint8Array/TextEncoder, so it runs in Node and in browsers.
 */
import type { ErrorCode } from './errors.ts';
import type { DecodeFailure } from './messages.ts';

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

/** What a decoder returns instead of throwing. */
export function fail(code: ErrorCode, detail: string): DecodeFailure {
  return { type: 'invalid', code, detail };
}

/** The detail of a failure for a message that ends before its fields do. */
export const TRUNCATED = 'truncated';

/** A view of `data`'s bytes (no copy). */
export function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Reads a UTF-8 string; undefined when the bytes are not valid UTF-8. */
export function readUtf8(bytes: Uint8Array, start: number, len: number): string | undefined {
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

/** Reads a message's fields in order; `has(n)` before reading tells whether `n` more bytes are there. */
export class ByteReader {
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
