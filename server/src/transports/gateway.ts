/**
 * Between the transports and the world: one Session per connection (either transport) that
 * enforces rate limits, decodes and validates every frame, runs the hello (token, one session per
 * account, character load), hands valid inputs to the world and batches everything the world writes
 * into one frame per connection per flush.
 *
 * Rules a caller may rely on: a handler never throws; a malformed or refused message costs its
 * sender an error reply (rate-limited) and a strike; too many strikes close that connection only.
 */
import { randomUUID } from 'node:crypto';
import { AuthError, type Auth } from '../auth/auth.ts';
import type { Bus, BusMessage } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../ops/metrics.ts';
import type { Presence } from '../presence/presence.ts';
import {
  CLIENT_TYPE,
  FrameWriter,
  PROTOCOL_VERSION,
  SERVER_TYPE,
  decodeClientMessage,
  writeError,
  writePong,
  writeReconnect,
  writeWelcome,
  type ClientMessage,
} from '../protocol/codec.ts';
import type { ErrorCode } from '../protocol/errors.ts';
import type { Store } from '../store/store.ts';
import { MAX_HP } from '../world/rules.ts';
import { TRANSPORT_INDEX, type TransportName } from '../world/traffic.ts';
import type { Player, PlayerSink, World } from '../world/world.ts';
import { CONNECTION_LIMITS, TokenBucket, type LimitedKind } from './rate-limit.ts';

/** What a transport gives the gateway for one connection. */
export interface Connection {
  readonly transport: TransportName;
  /** For logs: remote address or channel id. */
  readonly remote: string;
  /** Sends one frame (the gateway never touches it again). */
  send(frame: Uint8Array): void;
  /** Closes the connection; the transport then calls `Session.closed`. */
  close(): void;
  /** Bytes queued but not yet sent. */
  bufferedAmount(): number;
}

export interface GatewayOptions {
  readonly world: World;
  readonly auth: Auth;
  readonly store: Store;
  readonly presence: Presence;
  readonly bus: Bus;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly serverId: string;
  /** Monotonic milliseconds for rate limits. */
  readonly now: () => number;
  /** Connections that have not said hello within this many ms are closed. Default 10000. */
  readonly helloTimeoutMs?: number;
}

/** Above this many queued bytes a connection gets no snapshots; above SLOW_CLOSE it is closed. */
const CONGESTED_BYTES = 256 * 1024;
const SLOW_CLOSE_BYTES = 4 * 1024 * 1024;

export class Gateway {
  readonly o: GatewayOptions;
  readonly sessions = new Set<Session>();
  private readonly byAccount = new Map<string, Session>();
  private dirty: Session[] = [];
  private flushScheduled = false;
  private pendingHellos = 0;
  draining = false;

  constructor(options: GatewayOptions) {
    this.o = options;
  }

  /** Registers a new connection; the transport feeds it frames and reports its close. */
  open(conn: Connection): Session {
    const s = new Session(this, conn);
    this.sessions.add(s);
    return s;
  }

  /** True when no further player can be admitted. */
  full(): boolean {
    return this.o.world.population + this.pendingHellos >= this.o.world.config.maxPlayers;
  }

  /** Handles a message from the bus: chat for the world, kicks for sessions here. */
  receive(message: BusMessage): void {
    if (message.kind === 'kick') {
      const s = this.byAccount.get(message.accountId);
      if (s && s.sessionId === message.sessionId) s.kick('session_replaced', message.reason);
      return;
    }
    this.o.world.receive(message);
  }

  /** Stops admitting players and tells every connected one to reconnect (elsewhere) soon. */
  drain(spreadMs: number): void {
    this.draining = true;
    for (const s of this.sessions) {
      if (s.player) {
        writeReconnect(s.out, 'draining', Math.floor(Math.random() * spreadMs));
        this.o.world.traffic.out(s.transport, SERVER_TYPE.reconnect);
        s.markDirty();
      } else s.conn.close();
    }
  }

  /** Queues a session for the next flush. */
  schedule(s: Session): void {
    this.dirty.push(s);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends every session's pending batch as one frame. */
  flush(): void {
    this.flushScheduled = false;
    const list = this.dirty;
    this.dirty = [];
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      s.dirty = false;
      const out = s.out;
      if (out.length === 0 || s.isClosed) {
        out.reset();
        continue;
      }
      try {
        s.conn.send(out.copy());
        if (s.conn.bufferedAmount() > SLOW_CLOSE_BYTES) {
          this.o.log.warn('closing a connection that does not read', { transport: s.conn.transport, remote: s.conn.remote });
          s.conn.close();
        }
      } catch (err) {
        this.o.log.debug('send failed', { error: err, transport: s.conn.transport });
      }
      out.reset();
      // Give back memory a burst made the buffer grow to.
      if (out.bytes.length > 64 * 1024) s.out = new FrameWriter(1024);
    }
  }

  /** Account → session bookkeeping (one session per account in this process). */
  bind(s: Session, accountId: string): Session | undefined {
    const previous = this.byAccount.get(accountId);
    this.byAccount.set(accountId, s);
    return previous === s ? undefined : previous;
  }

  /** Forgets a closed session. */
  forget(s: Session): void {
    this.sessions.delete(s);
    if (s.accountId && this.byAccount.get(s.accountId) === s) this.byAccount.delete(s.accountId);
  }

  helloStarted(): void {
    this.pendingHellos++;
  }
  helloEnded(): void {
    this.pendingHellos--;
  }
}

type State = 'new' | 'hello' | 'playing' | 'closed';

export class Session implements PlayerSink {
  readonly conn: Connection;
  readonly transport: number;
  out = new FrameWriter(512);
  dirty = false;
  player: Player | undefined;
  accountId: string | undefined;
  sessionId: string | undefined;
  private state: State = 'new';
  private readonly gw: Gateway;
  private readonly buckets: Record<LimitedKind, TokenBucket>;
  private helloTimer: NodeJS.Timeout | undefined;

  constructor(gw: Gateway, conn: Connection) {
    this.gw = gw;
    this.conn = conn;
    this.transport = TRANSPORT_INDEX[conn.transport];
    const now = gw.o.now();
    this.buckets = Object.fromEntries(
      Object.entries(CONNECTION_LIMITS).map(([k, [burst, rate]]) => [k, new TokenBucket(burst, rate, now)]),
    ) as Record<LimitedKind, TokenBucket>;
    this.helloTimer = setTimeout(() => {
      if (this.state === 'new' || this.state === 'hello') this.kick('not_authenticated', 'no hello in time');
    }, gw.o.helloTimeoutMs ?? 10_000);
    this.helloTimer.unref?.();
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.gw.schedule(this);
  }

  congested(): boolean {
    return this.conn.bufferedAmount() > CONGESTED_BYTES;
  }

  /** Handles one inbound frame (text frames are refused). Never throws. */
  onFrame(data: Uint8Array | string): void {
    if (this.state === 'closed') return;
    try {
      const now = this.gw.o.now();
      if (!this.buckets.frames.take(now)) return this.violation('rate_limited', 'too many frames', 0, now);
      if (typeof data === 'string') return this.violation('bad_frame', 'text frames are not part of the protocol', 0, now);
      const m = decodeClientMessage(data);
      if (m.type === 'invalid') return this.violation(m.code, m.detail, 0, now);
      this.gw.o.world.traffic.in(this.transport, CLIENT_TYPE[m.type]);
      this.handle(m, now);
    } catch (err) {
      this.gw.o.log.error('message handler failed', { error: err, transport: this.conn.transport });
      this.gw.o.metrics.rejected('internal');
      this.reply('internal', 0, 'the server failed to handle this message');
    }
  }

  /** The transport reports the connection closed (idempotent). */
  closed(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.gw.forget(this);
    const p = this.player;
    this.player = undefined;
    const { world, store, presence, log, metrics } = this.gw.o;
    if (p) {
      const state = world.removePlayer(p);
      const started = performance.now();
      store
        .saveCharacters([state])
        .then(() => metrics.storeSaveDuration.labels({ kind: 'logout' }).observe((performance.now() - started) / 1000))
        .catch((err: unknown) => log.error('saving a character at logout failed', { error: err, characterId: state.id }));
    }
    if (this.accountId && this.sessionId) {
      presence.releaseSession(this.accountId, this.sessionId).catch((err: unknown) => log.warn('releasing a session failed', { error: err }));
    }
    log.debug('connection closed', { transport: this.conn.transport, reason });
  }

  /** Sends an error, flushes it and closes the connection. */
  kick(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    writeError(this.out, code, 0, message);
    this.gw.o.world.traffic.out(this.transport, SERVER_TYPE.error);
    this.markDirty();
    this.gw.flush();
    this.conn.close();
  }

  private handle(m: ClientMessage, now: number): void {
    if (this.state !== 'playing') {
      if (m.type !== 'hello') return this.violation('not_authenticated', 'say hello first', 0, now);
      if (this.state !== 'new') return this.violation('already_authenticated', 'hello already received', 0, now);
      this.state = 'hello';
      void this.hello(m.token);
      return;
    }
    const { world, metrics } = this.gw.o;
    const p = this.player!;
    switch (m.type) {
      case 'move':
        if (!this.buckets.move.take(now)) return this.violation('rate_limited', 'too many moves', m.seq, now);
        if (m.rtt && m.rtt > 0) metrics.inputAckLatency[this.conn.transport].observe(m.rtt / 1000);
        world.move(p, m.seq, m.x, m.y, m.clientTime);
        return;
      case 'chat':
        if (!this.buckets.chat.take(now)) return this.violation('rate_limited', 'too many chat messages', 0, now);
        world.chat(p, m.channel, m.text);
        return;
      case 'attack': {
        if (!this.buckets.attack.take(now)) return this.violation('rate_limited', 'too many attacks', 0, now);
        const refusal = world.attack(p, m.target, m.skill);
        if (refusal) this.reply(refusal, 0, refusalText[refusal] ?? refusal);
        return;
      }
      case 'join': {
        if (!this.buckets.join.take(now)) return this.violation('rate_limited', 'too many zone changes', 0, now);
        const refusal = world.join(p, m.zone);
        if (refusal) this.reply(refusal, 0, `zone ${m.zone} is not served here`);
        return;
      }
      case 'ping':
        if (!this.buckets.ping.take(now)) return this.violation('rate_limited', 'too many pings', 0, now);
        writePong(this.out, m.nonce, m.clientTime, world.now);
        world.traffic.out(this.transport, SERVER_TYPE.pong);
        this.markDirty();
        return;
      case 'hello':
        return this.violation('already_authenticated', 'hello already received', 0, now);
    }
  }

  private async hello(token: string): Promise<void> {
    const { auth, store, presence, bus, world, log, serverId, metrics } = this.gw.o;
    if (this.gw.draining) return this.kick('draining', 'this server is shutting down; connect again');
    let accountId: string;
    let guest: boolean;
    try {
      const claims = auth.verify(token);
      accountId = claims.accountId;
      guest = claims.guest;
    } catch (err) {
      const why = err instanceof AuthError ? err.code : 'token_malformed';
      metrics.rejected('auth_failed');
      return this.kick('auth_failed', `token refused: ${why}`);
    }
    if (this.gw.full()) return this.kick('server_full', 'this server is full');
    this.gw.helloStarted();
    try {
      const sessionId = randomUUID();
      this.accountId = accountId;
      this.sessionId = sessionId;
      const local = this.gw.bind(this, accountId);
      if (local) local.kick('session_replaced', 'logged in elsewhere');
      const replaced = await presence.claimSession({ accountId, sessionId, serverId });
      if (replaced && replaced.serverId !== serverId) {
        await bus.send(replaced.serverId, { kind: 'kick', accountId, sessionId: replaced.sessionId, reason: 'logged in elsewhere' });
      }
      const account = guest ? undefined : await store.getAccount(accountId);
      const spawn = world.spawnPoint();
      const character = await store.loadOrCreateCharacter(accountId, {
        name: account?.username ?? `guest-${accountId.replace(/-/g, '').slice(0, 6)}`,
        zone: spawn.zone,
        x: spawn.x,
        y: spawn.y,
        hp: MAX_HP,
        level: 1,
        xp: 0,
      });
      if (this.state === 'closed') return; // left while we were loading
      const joined = world.addPlayer(character, this);
      if (!joined.ok) return this.kick(joined.code, joined.code === 'server_full' ? 'this server is full' : 'cannot join');
      const p = joined.player;
      this.player = p;
      this.state = 'playing';
      clearTimeout(this.helloTimer);
      const c = world.config;
      writeWelcome(this.out, {
        version: PROTOCOL_VERSION, playerId: p.id, name: p.name, serverId, zone: p.zone, zoneCount: c.zoneCount,
        zoneSize: c.zoneSize, x: p.x, y: p.y, hp: p.hp, maxHp: p.maxHp, tickRate: c.tickRate, patchRate: c.patchRate,
        interestRadius: c.interestRadius,
      });
      world.traffic.out(this.transport, SERVER_TYPE.welcome);
      metrics.connectionsTotal.labels({ transport: this.conn.transport }).inc();
      this.markDirty();
    } catch (err) {
      log.error('hello failed', { error: err, transport: this.conn.transport });
      this.kick('internal', 'the server could not load your character; try again');
    } finally {
      this.gw.helloEnded();
    }
  }

  /** A protocol violation: counted, answered (within the reply budget), and a strike. */
  private violation(code: ErrorCode, detail: string, ref: number, now: number): void {
    this.gw.o.metrics.rejected(code);
    if (!this.buckets.strikes.take(now)) {
      this.gw.o.log.info('closing an abusive connection', { transport: this.conn.transport, remote: this.conn.remote, last: code });
      this.kick('abuse', 'too many invalid messages');
      return;
    }
    if (this.buckets.errorReplies.take(now)) this.reply(code, ref, detail, true);
  }

  private reply(code: ErrorCode, ref: number, message: string, budgeted = false): void {
    if (!budgeted && !this.buckets.errorReplies.take(this.gw.o.now())) return;
    writeError(this.out, code, ref, message);
    this.gw.o.world.traffic.out(this.transport, SERVER_TYPE.error);
    this.markDirty();
  }
}

const refusalText: Partial<Record<ErrorCode, string>> = {
  cooldown: 'that skill is cooling down',
  invalid_target: 'no such target in range',
  dead: 'you are dead',
  zone_unavailable: 'zone not served here',
};
