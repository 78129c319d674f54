/**
 * The players' path, proven the way a player takes it: one bot joins over TCP (WebSocket) and one
 * over UDP (WebRTC, signalled over the same HTTP address), each plays a move and waits for its
 * acknowledgement. Each hop is reported — HTTP, then WebSocket or signalling, ICE, data — so a
 * failure names where the path breaks, before players find out.
 */
import { GameClient } from '../../client/game-client.ts';
import { ConnectError } from '../../client/link.ts';
import { installNodeWebRtc, NodeWebSocketImpl } from '../../client/node.ts';
import { guestToken } from '../../client/loadtest/worker.ts';
import { describeError } from '../errors.ts';

export type HopName = 'http' | 'websocket' | 'signalling' | 'ice' | 'data';

export interface Hop {
  readonly hop: HopName;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

export interface TransportProbe {
  readonly transport: 'ws' | 'udp';
  readonly url: string;
  readonly ok: boolean;
  readonly hops: readonly Hop[];
}

export interface PlayersProbe {
  readonly ok: boolean;
  readonly probes: readonly TransportProbe[];
}

export interface ProbeOptions {
  /** The game's HTTP address as players use it (`http(s)://host:port`). */
  readonly url: string;
  /** Also join over UDP. */
  readonly udp: boolean;
  /** What the UDP players' address is said to be, for the messages ("203.0.113.11:30000"). */
  readonly udpAddress?: string;
  readonly timeoutMs: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    return { value: await fn(), ms: Math.round(performance.now() - t0) };
  } catch (error) {
    return { error, ms: Math.round(performance.now() - t0) };
  }
}

/** One move, and its acknowledgement, over an open client. */
async function moveAcked(c: GameClient, timeoutMs: number): Promise<number> {
  const seq = c.move(c.welcome.x + 1, c.welcome.y);
  const t0 = performance.now();
  await c.next('ack', timeoutMs, (a) => a.seq === seq);
  return Math.round(performance.now() - t0);
}

/**
 * Why no UDP got through, with what the server announced: the address a player's UDP goes to is
 * the one in the server's ICE candidates, not the one the admin expects — a wrong one shows here.
 */
export function iceFailure(announced: readonly string[], expected: string | undefined): string {
  const where = announced.length ? `the address it announced, ${announced.join(' or ')}` : expected ?? 'its UDP port';
  const causes = announced.length === 0
    ? 'the server offered no UDP address at all (its UDP transport or announce address is not set up)'
    : expected && !announced.includes(expected)
      ? `the server announced ${announced.join(', ')} where players are expected at ${expected} (udp.announce: the node's address the server picks is not the one players reach)`
      : 'a firewall, a node port or host port not forwarded, or an announced address players cannot reach';
  return `no UDP reached the game server at ${where}: the data channel did not open (${causes})`;
}

export async function probePlayers(o: ProbeOptions): Promise<PlayersProbe> {
  installNodeWebRtc();
  const probes: TransportProbe[] = [];
  for (const transport of o.udp ? (['ws', 'udp'] as const) : (['ws'] as const)) {
    const hops: Hop[] = [];
    const done = () => probes.push({ transport, url: o.url, ok: hops.every((h) => h.ok), hops });
    const token = await timed(() => guestToken(o.url, o.timeoutMs));
    if (token.error !== undefined) {
      hops.push({ hop: 'http', ok: false, ms: token.ms, detail: `the game's HTTP address ${o.url} does not answer: ${describeError(token.error)}` });
      done();
      continue;
    }
    hops.push({ hop: 'http', ok: true, ms: token.ms, detail: `${o.url} answers (POST /auth/guest)` });
    // What the server told this bot to send UDP to (its ICE candidates), for a failed ICE hop.
    const announced = new Set<string>();
    const client = await timed(() =>
      GameClient.connect({
        url: o.url,
        token: token.value!,
        transport,
        WebSocket: NodeWebSocketImpl,
        connectTimeoutMs: o.timeoutMs,
        attempts: 2,
        onAttemptFailed: (_kind, _attempt, err) => {
          if (err instanceof ConnectError) for (const a of err.announced) announced.add(a);
        },
      }),
    );
    if (client.error !== undefined) {
      const msg = describeError(client.error);
      if (transport === 'ws') hops.push({ hop: 'websocket', ok: false, ms: client.ms, detail: `no WebSocket game session at ${o.url}/ws: ${msg}` });
      else if (/did not open within/.test(msg)) {
        hops.push({ hop: 'signalling', ok: true, ms: 0, detail: `signalled over ${o.url}` });
        hops.push({ hop: 'ice', ok: false, ms: client.ms, detail: iceFailure([...announced], o.udpAddress) });
      } else hops.push({ hop: 'signalling', ok: false, ms: client.ms, detail: `WebRTC signalling over ${o.url} failed: ${msg}` });
      done();
      continue;
    }
    const c = client.value!;
    if (transport === 'udp') {
      hops.push({ hop: 'signalling', ok: true, ms: 0, detail: `signalled over ${o.url}` });
      hops.push({ hop: 'ice', ok: true, ms: client.ms, detail: `data channel open${o.udpAddress ? ` to ${o.udpAddress}` : ''}` });
    } else hops.push({ hop: 'websocket', ok: true, ms: client.ms, detail: `joined as ${c.welcome.name}` });
    const ack = await timed(() => moveAcked(c, o.timeoutMs));
    hops.push(ack.error === undefined ? { hop: 'data', ok: true, ms: ack.ms, detail: `a move acknowledged in ${ack.ms} ms` } : { hop: 'data', ok: false, ms: ack.ms, detail: `joined, but a move was not acknowledged: ${describeError(ack.error)}` });
    c.close();
    done();
  }
  return { ok: probes.every((p) => p.ok), probes };
}
