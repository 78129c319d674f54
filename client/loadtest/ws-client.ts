/**
 * The load generator's WebSocket client: RFC 6455 over a plain TCP socket, binary messages only.
 * A generator thread holds thousands of sockets that each receive 30 frames a second; the `ws`
 * package parses every chunk through a Writable stream and frames every send with a cork/uncork,
 * which made the generator, not the server, the limit of the benchmark. Here a socket's chunks are
 * scanned in place (frames delivered as views, no copy unless a frame spans chunks) and each send
 * is one masked buffer and one write.
 *
 * What it does not do, because the game server never needs it: text messages (ignored),
 * extensions (none offered), fragmented sends. Fragmented receives, pings (answered with pongs)
 * and the close handshake are handled. Never used by players: the demo page and GameClient's
 * defaults use the platform WebSocket.
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ConnectError, type ServerLink } from '../link.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Largest message accepted from the server (the protocol's frames are far smaller). */
const MAX_MESSAGE = 1024 * 1024;

// Masking keys come from one random pool, refilled when used up (as ws does).
const maskPool = Buffer.alloc(8192);
let maskAt = maskPool.length;
function maskKey(out: Buffer, at: number): void {
  if (maskAt + 4 > maskPool.length) {
    randomFillSync(maskPool);
    maskAt = 0;
  }
  maskPool.copy(out, at, maskAt, maskAt + 4);
  maskAt += 4;
}

/** One final, masked client frame with `opcode` and `payload` (RFC 6455 §5.2). */
export function clientFrame(opcode: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const len = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(len + 4 + n);
  out[0] = 0x80 | opcode;
  if (len === 2) out[1] = 0x80 | n;
  else if (len === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  maskKey(out, len);
  const m = len;
  for (let i = 0; i < n; i++) out[len + 4 + i] = payload[i]! ^ out[m + (i & 3)]!;
  return out;
}

/** Opens `ws://host:port/ws` of `serverUrl`; rejects with ConnectError after `timeoutMs`. */
export function connectRawWebSocket(serverUrl: string, timeoutMs: number, path = '/ws'): Promise<ServerLink> {
  const u = new URL(serverUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'ws:') {
    return Promise.reject(new ConnectError('ws', `the load generator's WebSocket client speaks plain ws:// only, got ${serverUrl}`));
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(new ConnectError('ws', `WebSocket to ${serverUrl}: ${why}`));
    };
    const socket: Socket = connect({ host, port, noDelay: true });
    const timer = setTimeout(() => fail(`did not open within ${timeoutMs} ms`), timeoutMs);
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('closed during the handshake'));
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = Buffer.alloc(0);
    const onHandshake = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) fail('handshake answer too long');
        return;
      }
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      if (!/^HTTP\/1\.1 101 /.test(lines[0] ?? '')) return fail(`upgrade refused: ${lines[0] ?? '(nothing)'}`);
      const acceptLine = lines.find((l) => l.toLowerCase().startsWith('sec-websocket-accept:'));
      if (acceptLine?.slice(acceptLine.indexOf(':') + 1).trim() !== accept) return fail('bad Sec-WebSocket-Accept');
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      const conn = new Connection(socket);
      resolve(conn.link);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) conn.data(rest);
    };
    socket.on('data', onHandshake);
  });
}

/** An open WebSocket: frame parsing and the ServerLink handed to GameClient. */
class Connection {
  readonly link: ServerLink;
  private readonly socket: Socket;
  /** Bytes of an incomplete frame carried over from earlier chunks. */
  private pending: Buffer | undefined;
  /** Payloads of a fragmented message so far. */
  private fragments: Buffer[] = [];
  private fragmentsBytes = 0;
  private closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    const self = this;
    this.link = {
      kind: 'ws',
      send(frame) {
        if (!self.closed) socket.write(clientFrame(0x2, frame));
      },
      cork() {
        socket.cork();
      },
      uncork() {
        socket.uncork();
      },
      close() {
        self.close(1000);
      },
      onFrame: () => {},
      onClose: () => {},
    };
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.gone('ws closed'));
  }

  data(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    const n = buf.length;
    while (at + 2 <= n) {
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      let start = at + 2;
      if (len === 126) {
        if (start + 2 > n) break;
        len = buf.readUInt16BE(start);
        start += 2;
      } else if (len === 127) {
        if (start + 8 > n) break;
        len = buf.readUInt32BE(start) * 2 ** 32 + buf.readUInt32BE(start + 4);
        start += 8;
      }
      if (b1 & 0x80) return this.protocolError('masked frame from the server');
      if (len > MAX_MESSAGE) return this.protocolError(`frame of ${len} bytes`);
      if (start + len > n) break;
      this.frame(b0, buf.subarray(start, start + len));
      if (this.closed) return;
      at = start + len;
    }
    if (at < n) this.pending = Buffer.from(buf.subarray(at));
  }

  private frame(b0: number, payload: Buffer): void {
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    switch (opcode) {
      case 0x1: // text: not part of the protocol, read and dropped like binary ones
      case 0x2:
        this.binary = opcode === 0x2;
        if (fin) {
          if (this.binary) this.link.onFrame(payload);
          return;
        }
        this.fragments = [Buffer.from(payload)];
        this.fragmentsBytes = payload.length;
        return;
      case 0x0: {
        if (this.fragments.length === 0) return this.protocolError('continuation without a message');
        this.fragments.push(Buffer.from(payload));
        this.fragmentsBytes += payload.length;
        if (this.fragmentsBytes > MAX_MESSAGE) return this.protocolError('message too large');
        if (!fin) return;
        const whole = Buffer.concat(this.fragments);
        this.fragments = [];
        if (this.binary) this.link.onFrame(whole);
        return;
      }
      case 0x8: {
        // The server closes: answer with its code and let the socket end.
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1000;
        this.close(code);
        return;
      }
      case 0x9:
        if (!this.closed) this.socket.write(clientFrame(0xa, payload));
        return;
      default:
        return; // pong and reserved control frames
    }
  }

  /** Whether the message being received (possibly in fragments) is binary. */
  private binary = false;

  private protocolError(why: string): void {
    this.close(1002);
    this.gone(`ws protocol error: ${why}`);
  }

  private close(code: number): void {
    if (this.closed) return;
    this.closed = true;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code, 0);
    this.socket.end(clientFrame(0x8, body));
    // A server that never closes its side does not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private reported = false;
  private gone(reason: string): void {
    this.closed = true;
    if (this.reported) return;
    this.reported = true;
    this.link.onClose(reason);
  }
}
