import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { GameClient } from '../../client/game-client.ts';
import { installNodeWebRtc, NodeWebSocketImpl } from '../../client/node.ts';
import { connectUdp, webSocketUrl, type ServerLink } from '../../client/link.ts';
import {
  FrameWriter,
  LIMITS,
  PROTOCOL_VERSION,
  decodeServerFrame,
  encodeClientMessage,
  type ErrorMessage,
} from '../../protocol/codec.ts';
import { waitFor } from '../../scripts/lib/wait.ts';
import { startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';

installNodeWebRtc();

/** Violations a connection may commit before it is closed (the strike bucket's burst + the last). */
const PER_CONNECTION = 31;
const WS_CONNECTIONS = 290; // 8,990 messages
const UDP_CONNECTIONS = 70; // 2,170 messages

let seed = 20261126;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const int = (n: number): number => Math.floor(rand() * n);

function bytes(...parts: Array<['u8' | 'u16' | 'u32' | 'f32' | 'f64', number]>): Uint8Array {
  const w = new FrameWriter(32);
  for (const [k, v] of parts) w[k](v);
  return w.copy();
}

/** One malformed, oversized or unknown message; `authed` picks the kinds that make sense after hello. */
function badMessage(authed: boolean): Uint8Array | string {
  switch (int(12)) {
    case 0: {
      const b = new Uint8Array(int(64));
      for (let i = 0; i < b.length; i++) b[i] = int(256);
      return b;
    }
    case 1:
      return new Uint8Array(LIMITS.maxClientFrame + 1 + int(3000)).fill(4); // oversized
    case 2:
      return bytes(['u8', 7 + int(249)], ['u32', int(1000)]); // unknown type
    case 3: {
      const valid = encodeClientMessage({ type: 'move', seq: 1, x: 1, y: 1, clientTime: 1 });
      return valid.subarray(0, 1 + int(valid.length - 1)); // truncated
    }
    case 4:
      return bytes(['u8', 3], ['u32', 1], ['f32', Number.NaN], ['f32', 1], ['f64', 1], ['u32', 0]); // NaN position
    case 5:
      return bytes(['u8', 3], ['u32', 1], ['f32', -5 - int(1000)], ['f32', 1], ['f64', 1], ['u32', 0]); // out of range
    case 6:
      return bytes(['u8', 2], ['u16', LIMITS.maxZone + 1 + int(1000)]); // zone out of range
    case 7:
      return bytes(['u8', 5], ['u32', 1 + int(100)], ['u8', 9 + int(200)]); // unknown skill
    case 8: {
      const w = new FrameWriter();
      w.u8(4);
      w.u8(0);
      w.u16(3);
      w.u8(0xc3);
      w.u8(0x28);
      w.u8(0x41); // invalid UTF-8
      return w.copy();
    }
    case 9:
      return bytes(['u8', 1], ['u16', PROTOCOL_VERSION + 1 + int(100)], ['u16', 0]); // wrong version
    case 10:
      return authed ? encodeClientMessage({ type: 'hello', version: PROTOCOL_VERSION, token: 'again' }) : encodeClientMessage({ type: 'ping', nonce: 1, clientTime: 1 });
    default:
      return int(2) === 0 ? `not binary ${int(1000)}` : `{"disconnect":"closed"}`; // text frames
  }
}

interface AbuserResult {
  sent: number;
  errors: ErrorMessage[];
  closed: boolean;
}

function collectErrors(frame: Uint8Array, into: ErrorMessage[]): void {
  const messages = decodeServerFrame(frame);
  if (!Array.isArray(messages)) throw new Error(`server sent a frame that does not decode: ${messages.detail}`);
  for (const m of messages) if (m.type === 'error') into.push(m);
}

async function wsAbuser(server: GameServer, token: string | undefined): Promise<AbuserResult> {
  const ws = new WebSocket(webSocketUrl(server.url));
  const result: AbuserResult = { sent: 0, errors: [], closed: false };
  const closed = new Promise<void>((resolve) => ws.on('close', () => ((result.closed = true), resolve())));
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) collectErrors(new Uint8Array(data), result.errors);
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (token) {
    ws.send(encodeClientMessage({ type: 'hello', version: PROTOCOL_VERSION, token }));
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
  }
  for (let i = 0; i < PER_CONNECTION && ws.readyState === WebSocket.OPEN; i++) {
    ws.send(badMessage(token !== undefined));
    result.sent++;
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  ws.terminate();
  return result;
}

async function udpAbuser(server: GameServer): Promise<AbuserResult> {
  const result: AbuserResult = { sent: 0, errors: [], closed: false };
  let t: ServerLink | undefined;
  for (let attempt = 0; attempt < 3 && !t; attempt++) t = await connectUdp(server.url, 8000).catch(() => undefined);
  if (!t) throw new Error('could not open a WebRTC channel after 3 attempts');
  const transport = t;
  const closed = new Promise<void>((resolve) => {
    transport.onClose = () => {
      result.closed = true;
      resolve();
    };
  });
  let abused: () => void = () => {};
  const kicked = new Promise<void>((resolve) => (abused = resolve));
  transport.onFrame = (f) => {
    collectErrors(f, result.errors);
    if (result.errors.some((e) => e.name === 'abuse')) abused();
  };
  for (let i = 0; i < PER_CONNECTION; i++) {
    const m = badMessage(false);
    if (typeof m === 'string') (transport as unknown as { send(x: unknown): void }).send(m);
    else transport.send(m);
    result.sent++;
    if (i % 8 === 7) await new Promise((r) => setTimeout(r, 2)); // do not overflow the SCTP buffer
  }
  // The server's close reaches a WebRTC client late (ICE); its 'abuse' error is the answer we wait for.
  await Promise.race([closed, kicked, new Promise((r) => setTimeout(r, 3000))]);
  transport.close();
  return result;
}

async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await job(i);
      }
    }),
  );
  return results;
}

async function rejectedTotal(server: GameServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.ports.metrics}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('game_server_messages_rejected_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** A player that moves every 50 ms and records everything it gets back. */
function wellBehaved(c: GameClient) {
  const sent: number[] = [];
  const acked: number[] = [];
  const errors: ErrorMessage[] = [];
  let snapshots = 0;
  c.on('ack', (a) => acked.push(a.seq));
  c.on('error', (e) => errors.push(e));
  c.on('snapshot', () => snapshots++);
  const timer = setInterval(() => sent.push(c.move(5 + rand() * 50, 5 + rand() * 50)), 50);
  return {
    stop: () => clearInterval(timer),
    get sent() {
      return sent;
    },
    acked,
    errors,
    get snapshots() {
      return snapshots;
    },
  };
}

describe('bad input', () => {
  let server: GameServer;
  beforeAll(async () => {
    server = await startGameServer({ env: { MMO_ZONE_COUNT: '1', MMO_ZONE_SIZE: '64' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('10,000+ malformed, oversized and unknown messages over both transports: answered with codes, nobody else disturbed', { timeout: 180_000 }, async () => {
    const goodTcp = await GameClient.connect({ url: server.url, token: await server.token(), transport: 'ws', WebSocket: NodeWebSocketImpl });
    const goodUdp = await GameClient.connect({ url: server.url, token: await server.token(), transport: 'udp' });
    const tcpWatch = wellBehaved(goodTcp);
    const udpWatch = wellBehaved(goodUdp);
    const before = await rejectedTotal(server);

    const tokens = await Promise.all(Array.from({ length: Math.ceil(WS_CONNECTIONS / 4) }, () => server.token()));
    const [wsResults, udpResults] = await Promise.all([
      pool(WS_CONNECTIONS, 6, (i) => wsAbuser(server, i % 4 === 0 ? tokens[i / 4] : undefined)),
      pool(UDP_CONNECTIONS, 3, () => udpAbuser(server)),
    ]);
    // A few frames far beyond any limit: the WebSocket layer cuts these connections off.
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(webSocketUrl(server.url));
      await new Promise((r) => ws.once('open', r));
      ws.on('error', () => {});
      ws.send(new Uint8Array(200 * 1024));
      await new Promise((r) => ws.once('close', r));
    }

    tcpWatch.stop();
    udpWatch.stop();

    const sent = [...wsResults, ...udpResults].reduce((n, r) => n + r.sent, 0);
    expect(sent).toBeGreaterThanOrEqual(10_000);
    // The last acks and the server's count of the last violations may still be in flight: wait until
    // they are in (bounded), however busy the machine, then check them exactly.
    // Counted server-side: every ws violation, and UDP's unless the unreliable channel dropped it.
    let rejected = 0;
    await waitFor(
      () =>
        `the last acks and rejections (TCP acked ${tcpWatch.acked.length}/${tcpWatch.sent.length}, ` +
        `UDP acked ${udpWatch.acked.length}/${udpWatch.sent.length}, rejected ${rejected}/10000)`,
      async () => {
        rejected = (await rejectedTotal(server)) - before;
        return (
          rejected >= 10_000 &&
          tcpWatch.acked.length === tcpWatch.sent.length &&
          udpWatch.acked.length >= udpWatch.sent.length * 0.95
        );
      },
      15_000,
    );
    expect(rejected).toBeGreaterThanOrEqual(10_000);

    // Every abusive connection was answered with stable codes and then closed for abuse.
    const known = new Set(['bad_frame', 'too_large', 'unknown_type', 'bad_field', 'bad_version', 'not_authenticated', 'already_authenticated', 'chat_rejected', 'abuse', 'rate_limited']);
    for (const r of wsResults) {
      expect(r.errors.length).toBeGreaterThan(0);
      for (const e of r.errors) expect(known).toContain(e.name);
      expect(r.errors.at(-1)!.name).toBe('abuse');
      expect(r.closed).toBe(true);
    }
    const udpAnswered = udpResults.filter((r) => r.errors.length > 0);
    expect(udpAnswered.length).toBeGreaterThanOrEqual(UDP_CONNECTIONS * 0.9);
    for (const r of udpAnswered) for (const e of r.errors) expect(known).toContain(e.name);

    // The well-behaved players saw nothing of it.
    expect(goodTcp.closedReason).toBeUndefined();
    expect(goodUdp.closedReason).toBeUndefined();
    expect(tcpWatch.errors).toEqual([]);
    expect(udpWatch.errors).toEqual([]);
    expect(tcpWatch.acked).toEqual(tcpWatch.sent); // every move acknowledged, in order
    expect(udpWatch.acked.length).toBeGreaterThanOrEqual(udpWatch.sent.length * 0.95);
    expect(tcpWatch.snapshots).toBeGreaterThan(20);
    expect(goodTcp.badFrames + goodUdp.badFrames).toBe(0);

    // And the server is still up and admitting players.
    expect(server.process.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${server.ports.health}/health/live`)).status).toBe(200);
    const late = await GameClient.connect({ url: server.url, token: await server.token(), transport: 'ws', WebSocket: NodeWebSocketImpl });
    const seq = late.move(1, 1);
    await late.next('ack', 5000, (a) => a.seq === seq);
    for (const c of [goodTcp, goodUdp, late]) c.close();
  });

  it('a burst of WebRTC connects abandoned half-way does not take the server down', { timeout: 120_000 }, async () => {
    // Clients that give up while the data channel is still opening make geckos.io touch a closed
    // channel from a native callback, which used to abort the process. A server of its own, logging
    // at debug level: it says when a channel opened after its connection had closed.
    const burst = await startGameServer({ env: { MMO_ZONE_COUNT: '1', MMO_ZONE_SIZE: '64', MMO_LOG_LEVEL: 'debug' } });
    const late = () => burst.logs.filter((l) => l.msg === 'ignoring a WebRTC channel that opened after its connection closed').length;
    let watching = true;
    const crashed = new Promise<never>((_, reject) => {
      void burst.exited.then((code) => watching && reject(new Error(`the server exited (${code}) after the burst:\n${burst.output().slice(-2000)}`)));
    });
    // The signaling requests the clients make, seen through fetch (geckos.io's client uses it).
    const signaling = { offersAnswered: 0, closesSent: 0, closesAnswered: 0 };
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      const close = url.endsWith('/close');
      if (close) signaling.closesSent++;
      const res = await realFetch(input, init);
      if (url.endsWith('/.wrtc/v2/connections') && res.ok) signaling.offersAnswered++;
      if (close) signaling.closesAnswered++;
      return res;
    };
    try {
      // Half-way is relative to how long a connect takes on this machine now: each wave measures a
      // full connect, then its clients give up at fractions of it, so a busy machine (slower ICE)
      // moves the window with it. Waves go on until the server has opened a channel for a
      // connection the client had already closed (the native callback that used to crash it),
      // bounded at six waves; after each, every close the clients sent must have been answered.
      // How many get that far varies from run to run (from 1 to over 400 of 600 here): one is
      // the path under test, and the server must then survive every wave.
      const outcomes = { opened: 0, gaveUp: 0, other: [] as string[] };
      const giveUps: number[][] = [];
      let clients = 0;
      for (let wave = 0; wave < 6 && late() === 0; wave++) {
        const took: number[] = [];
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          const t = await Promise.race([crashed, connectUdp(burst.url, 8000)]);
          took.push(performance.now() - started);
          t.close();
        }
        const timeouts = [0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1].map((f) => Math.max(10, Math.round(f * Math.max(...took))));
        giveUps.push(timeouts);
        clients += 300;
        await Promise.all(
          Array.from({ length: 300 }, async (_, i) => {
            try {
              const t = await connectUdp(burst.url, timeouts[i % timeouts.length]!);
              outcomes.opened++;
              setTimeout(() => t.close(), 50);
            } catch (err) {
              // Most give up: that is the point.
              if (/did not open within \d+ ms \(the server announced /.test((err as Error).message)) outcomes.gaveUp++;
              else outcomes.other.push((err as Error).message);
            }
          }),
        );
        await Promise.race([
          crashed,
          waitFor(() => `an answer to every close (${signaling.closesAnswered}/${signaling.closesSent})`, () => signaling.closesAnswered === signaling.closesSent, 30_000),
        ]);
      }
      // Every failure is a client giving up, not a refusal.
      expect(outcomes.other).toEqual([]);
      expect(outcomes.opened + outcomes.gaveUp).toBe(clients);
      expect(outcomes.gaveUp, `give-up times per wave (ms): ${JSON.stringify(giveUps)}`).toBeGreaterThan(clients / 2);
      // The last wave's late channels may still be opening: wait for one, bounded.
      await Promise.race([
        crashed,
        waitFor(() => `a channel opened after its connection closed, in ${giveUps.length} waves (give-up times, ms: ${JSON.stringify(giveUps)})`, () => late() > 0, 30_000),
      ]);
      expect(signaling.offersAnswered).toBeGreaterThanOrEqual(late());
      globalThis.fetch = realFetch;
      // Still up, and admitting players over UDP.
      const c = await Promise.race([crashed, GameClient.connect({ url: burst.url, token: await burst.token(), transport: 'udp', connectTimeoutMs: 8000 })]);
      const seq = c.move(2, 2);
      await c.next('ack', 5000, (a) => a.seq === seq);
      c.close();
      expect(burst.process.exitCode).toBeNull();
      expect(burst.process.signalCode).toBeNull();
    } finally {
      globalThis.fetch = realFetch;
      watching = false;
      await burst.stop();
    }
  });
});
