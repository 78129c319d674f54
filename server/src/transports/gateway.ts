/**
 * Between the transports and the world: one Session per connection (either transport) that
 * enforces rate limits, decodes and validates every frame, runs the hello (token, one session per
 * account, character load), hands valid inputs to the world and batches everything the world writes
 * into one frame per connection per flush.
 *
 * Rules a caller may rely on: a handler never throws; a malformed or refused message costs its
 * sender an error reply (rate-limited) and a strike; too many strikes close that connection only.
 *
 * Durability and the cluster (see docs/scale-out.md):
 * - A character's newest state follows it from session to session: a login that replaces another
 *   session (here or on another process) gets that session's final state before it loads, so a
 *   reconnect never starts from an older row than the player last saw acknowledged.
 * - `granted` (a pickup) is written only after the store committed the item.
 * - Joining a zone another process owns hands the character over once: saved in the new zone,
 *   recorded as a Presence handoff, announced to the owner over the Bus, then the player is told to
 *   reconnect there (`transfer`) and leaves this world before any further input is applied.
 */
import { randomUUID } from 'node:crypto';
import { AuthError, type Auth } from '../auth/auth.ts';
import type { Bus, BusMessage } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../ops/metrics.ts';
import type { Presence } from '../presence/presence.ts';
import { isUnavailable } from '../unavailable.ts';
import {
  CLIENT_TYPE,
  FrameWriter,
  PROTOCOL_VERSION,
  SERVER_TYPE,
  decodeClientMessage,
  writeChat,
  writeError,
  writeGranted,
  writeInventory,
  writePong,
  writeReconnect,
  writeTransfer,
  writeWelcome,
  type ClientMessage,
} from '../protocol/codec.ts';
import type { ErrorCode } from '../protocol/errors.ts';
import type { CharacterSaves } from '../saves.ts';
import type { Character, CharacterState, InventoryItem, Store } from '../store/store.ts';
import { ITEMS } from '../world/items.ts';
import { MAX_HP } from '../world/rules.ts';
import { TRANSPORT_INDEX, type TransportName } from '../world/traffic.ts';
import type { Player, PlayerSink, World } from '../world/world.ts';
import { Handover, newest, parseState } from './handover.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import { CONNECTION_LIMITS, type LimitedKind } from './rate-limit.ts';

/** What a transport gives the gateway for one connection. */
export interface Connection {
  readonly transport: TransportName;
  /** For logs: remote address or channel id. */
  readonly remote: string;
  /**
   * Sends one frame. The bytes are only valid during the call (they are the session's reusable
   * buffer): a transport that sends later must copy them.
   */
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
  /** Every character save goes through this queue. */
  readonly saves: CharacterSaves;
  /** Monotonic milliseconds for rate limits. */
  readonly now: () => number;
  /** Connections that have not said hello within this many ms are closed. Default 10000. */
  readonly helloTimeoutMs?: number;
  /** How long a login waits for a replaced session on another process to answer. Default 2000. */
  readonly releaseTimeoutMs?: number;
}

/** A handoff waits this long in Presence for the receiving process. */
const HANDOFF_TTL_MS = 60_000;
/** Pickups per connection: burst and per second (each one is a database transaction). */
const PICKUP_LIMIT: readonly [number, number] = [5, 2];

/** Sessions claimed again at once after a Presence outage. */
const RECLAIM_CHUNK = 64;

/** Above this many queued bytes a connection gets no snapshots; above SLOW_CLOSE it is closed. */
const CONGESTED_BYTES = 256 * 1024;
const SLOW_CLOSE_BYTES = 4 * 1024 * 1024;

export class Gateway {
  readonly o: GatewayOptions;
  readonly sessions = new Set<Session>();
  private readonly byAccount = new Map<string, Session>();
  private readonly byName = new Map<string, Session>();
  readonly handover = new Handover();
  /** Handoffs being taken for announced transfers: a hello of that character waits for them. */
  readonly taking = new Map<string, Promise<void>>();
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

  /** Handles a message from the bus: chat for the world; kicks, whispers and transfers for sessions here. */
  receive(message: BusMessage): void {
    switch (message.kind) {
      case 'kick':
        // Not awaited: the answer waits for this session's pickups, and the next message must not.
        void this.kicked(message.accountId, message.sessionId, message.reason, message.replyTo);
        return;
      case 'released':
        this.handover.released(message.accountId, message.sessionId, message.state);
        return;
      case 'whisper': {
        const s = this.byAccount.get(message.toAccountId);
        if (s?.player) s.whispered(message.fromName, message.text);
        return;
      }
      case 'transfer': {
        // Take the handoff now, so it is ours even if the player is slow; exactly one taker wins.
        const id = message.characterId;
        const taking = this.o.presence.takeHandoff(id).then(
          (handoff) => {
            if (handoff) this.handover.expect(handoff);
          },
          () => {},
        );
        this.taking.set(id, taking);
        void taking.finally(() => this.taking.get(id) === taking && this.taking.delete(id));
        return;
      }
      default:
        this.o.world.receive(message);
    }
  }

  /**
   * A login elsewhere replaced the account's session `sessionId`: close it if it is still here and
   * answer `replyTo` with `released`, carrying the final state unless it is known to be committed.
   */
  private async kicked(accountId: string, sessionId: string, reason: string, replyTo: string | undefined): Promise<void> {
    const s = this.byAccount.get(accountId);
    let actions: Promise<unknown>[] = [];
    if (s && s.sessionId === sessionId) {
      actions = [...s.actions];
      s.kick('session_replaced', reason);
    }
    if (!replyTo) return;
    // Pickups in flight commit (or fail) first, so the new session loads the inventory they wrote.
    await Promise.allSettled(actions);
    const state = this.handover.finalOf(accountId, sessionId);
    await this.o.bus
      .send(replyTo, { kind: 'released', accountId, sessionId, ...(state ? { state } : {}) })
      .catch((error: unknown) => this.o.log.warn('answering a session handover failed', { error, to: replyTo }));
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
        s.conn.send(out.written());
        if (s.conn.bufferedAmount() > SLOW_CLOSE_BYTES) {
          this.o.log.warn('closing a connection that does not read', { transport: s.conn.transport, remote: s.conn.remote });
          s.conn.close();
          // The session ends now, not when the transport reports the close: a WebSocket close
          // handshake with a peer that reads nothing can take 30 s, and meanwhile the player would
          // stay in the world with its inputs still applied. `closed` runs once; the transport's
          // later report is a no-op.
          s.closed('slow reader');
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
    if (s.player && this.byName.get(s.player.name) === s) this.byName.delete(s.player.name);
  }

  /**
   * Claims every playing session again in Presence (after Redis lost its data in an outage). A
   * session claimed meanwhile by a newer login elsewhere wins: ours is closed.
   */
  async reclaimSessions(): Promise<number> {
    const { presence, serverId } = this.o;
    let claimed = 0;
    const reclaim = async (s: Session): Promise<void> => {
      // Checked when its turn comes: a session that ended meanwhile released its claim.
      if (!s.player || !s.accountId || !s.sessionId) return;
      const replaced = await presence.claimSession({ accountId: s.accountId, sessionId: s.sessionId, serverId });
      if (replaced) {
        await presence.claimSession(replaced);
        s.kick('session_replaced', 'logged in elsewhere');
      } else claimed++;
    };
    // Concurrently in bounded chunks: one round trip per chunk rather than per session, without
    // thousands of commands in flight at once.
    const all = [...this.sessions];
    for (let i = 0; i < all.length; i += RECLAIM_CHUNK) await Promise.all(all.slice(i, i + RECLAIM_CHUNK).map(reclaim));
    return claimed;
  }

  /** Makes a playing session findable by its character's name (whispers). */
  named(s: Session, name: string): void {
    this.byName.set(name, s);
  }

  /** The session playing the character named `name` in this process, if any. */
  sessionNamed(name: string): Session | undefined {
    return this.byName.get(name);
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
  /** Saves a replacing login must wait for: pickups and a zone transfer, until they commit or fail. */
  readonly actions = new Set<Promise<unknown>>();
  private inventory: readonly InventoryItem[] = [];
  private readonly pickups: TokenBucket;
  /** Set once the character was handed to another process: nothing left to save here. */
  private transferred = false;
  private transferring = false;
  private state: State = 'new';
  /** The token of the hello that started this session (a repeat of it is answered, not refused). */
  private helloToken: string | undefined;
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
    this.pickups = new TokenBucket(PICKUP_LIMIT[0], PICKUP_LIMIT[1], now);
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
    const { world, presence, log, saves } = this.gw.o;
    const accountId = this.accountId;
    const sessionId = this.sessionId;
    const release = () => {
      if (accountId && sessionId) presence.releaseSession(accountId, sessionId).catch((err: unknown) => log.debug('releasing a session failed', { error: err }));
    };
    if (p && !this.transferred) {
      const state = world.removePlayer(p);
      // Until the save commits, a new login of this account takes the state from here. The
      // session stays claimed in Presence until then, so a login elsewhere asks us first.
      this.gw.handover.rememberFinal(p.accountId, sessionId ?? '', state);
      saves.save([state], 'logout').then(
        () => {
          this.gw.handover.committed(p.accountId, sessionId ?? '');
          release();
        },
        () => {}, // kept and retried by the save queue; the final state answers handovers meanwhile
      );
    } else {
      if (p) world.removePlayer(p);
      release();
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
    // Out of the world now, not when the transport reports the close: no input is applied after
    // a kick, and the final state is ready for whoever replaced this session.
    this.closed(`kicked: ${code}`);
  }

  /** Delivers a whisper from another player (this process or another). */
  whispered(fromName: string, text: string): void {
    writeChat(this.out, 'whisper', 0, fromName, text);
    this.gw.o.world.traffic.out(this.transport, SERVER_TYPE.chat);
    this.markDirty();
  }

  private handle(m: ClientMessage, now: number): void {
    if (this.state !== 'playing') {
      if (m.type !== 'hello') return this.violation('not_authenticated', 'say hello first', 0, now);
      // A repeated hello while the first is being answered: UDP clients resend it (see below).
      if (this.state !== 'new') return m.token === this.helloToken ? undefined : this.violation('already_authenticated', 'hello already received', 0, now);
      this.state = 'hello';
      this.helloToken = m.token;
      void this.hello(m.token);
      return;
    }
    // Handing the character to another process: inputs now would be acknowledged and then lost.
    if (this.transferring) return;
    const { world, metrics } = this.gw.o;
    const p = this.player!;
    switch (m.type) {
      case 'move':
        if (!this.buckets.move.take(now)) return this.violation('rate_limited', 'too many moves', m.seq, now);
        if (m.rtt && m.rtt > 0) metrics.inputAckLatency[this.conn.transport].observe(m.rtt / 1000);
        world.move(p, m.seq, m.x, m.y, m.clientTime);
        return;
      case 'chat': {
        if (!this.buckets.chat.take(now)) return this.violation('rate_limited', 'too many chat messages', 0, now);
        if (m.channel === 'zone' && !this.buckets.zoneChat.take(now)) return this.violation('rate_limited', 'zone chat: one line per 5 s', 0, now);
        if (m.channel === 'global' && !this.buckets.globalChat.take(now)) return this.violation('rate_limited', 'global chat: one line per 30 s', 0, now);
        const refusal = world.chat(p, m.channel, m.text);
        if (refusal) this.reply(refusal, 0, `the ${m.channel} channel is busy; try again in a moment`);
        return;
      }
      case 'attack': {
        if (!this.buckets.attack.take(now)) return this.violation('rate_limited', 'too many attacks', 0, now);
        const refusal = world.attack(p, m.target, m.skill);
        if (refusal) this.reply(refusal, 0, refusalText[refusal] ?? refusal);
        return;
      }
      case 'join': {
        if (!this.buckets.join.take(now)) return this.violation('rate_limited', 'too many zone changes', 0, now);
        if (!world.owns(m.zone) && m.zone < world.config.zoneCount) {
          void this.transferOut(m.zone);
          return;
        }
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
      case 'whisper':
        if (!this.buckets.chat.take(now)) return this.violation('rate_limited', 'too many chat messages', 0, now);
        void this.whisper(m.to, m.text);
        return;
      case 'pickup':
        if (!this.pickups.take(now)) return this.violation('rate_limited', 'too many pickups', m.seq, now);
        if (!ITEMS.has(m.item)) return this.reply('bad_field', m.seq, `no item ${m.item}: one of ${[...ITEMS].join(', ')}`);
        this.pickup(m.seq, m.item);
        return;
      case 'hello':
        // On UDP a hello sent the moment the client's side of the channel opened can be lost, and
        // so can the welcome: clients resend hello until welcomed, and the same hello repeated on
        // this connection is answered with the welcome again (as often as pings are allowed).
        // Anything else is a second hello: a violation.
        if (m.token !== this.helloToken) return this.violation('already_authenticated', 'hello already received', 0, now);
        if (!this.buckets.ping.take(now)) return this.violation('rate_limited', 'too many hellos', 0, now);
        this.welcome();
        return;
    }
  }

  /** The durable action: `granted` is written only after the store committed the item. */
  private pickup(seq: number, item: string): void {
    const { world, store, metrics, log } = this.gw.o;
    const p = this.player!;
    // The position and the rest ride along in the same transaction.
    const state = world.stateFor(p);
    const started = performance.now();
    const action = store.grantItem(p.characterId, item, 1, state).then(
      (inventory) => {
        metrics.storeSaveDuration.labels({ kind: 'action' }).observe((performance.now() - started) / 1000);
        this.inventory = inventory;
        if (this.isClosed) return;
        writeGranted(this.out, seq, item, inventory.find((i) => i.itemId === item)?.quantity ?? 0);
        world.traffic.out(this.transport, SERVER_TYPE.granted);
        this.markDirty();
      },
      (error: unknown) => {
        p.changed = true; // the state did not land with it: the next batch saves it
        log.warn('a pickup was not saved', { error, characterId: p.characterId });
        this.reply('unavailable', seq, 'the item could not be saved; try again');
      },
    );
    this.actions.add(action);
    void action.finally(() => this.actions.delete(action));
  }

  /** A whisper to a player here, or through Presence and the Bus to the process that holds them. */
  private async whisper(to: string, text: string): Promise<void> {
    const { store, presence, bus, serverId, log } = this.gw.o;
    const me = this.player!;
    // Usernames (and so character names) are stored lowercased; guests' names are lowercase too.
    const name = to.toLowerCase();
    const local = this.gw.sessionNamed(name);
    if (local?.player) return local.whispered(me.name, text);
    try {
      // Registered accounts are found by name anywhere; guests only in the process they play on.
      const account = await store.findAccountByUsername(name);
      const session = account && (await presence.getSession(account.id));
      if (!account || !session || session.serverId === serverId) return this.reply('not_online', 0, `${to} is not online`);
      await bus.send(session.serverId, { kind: 'whisper', from: me.characterId, fromName: me.name, toAccountId: account.id, text, sentAt: Date.now() });
    } catch (error) {
      log.debug('a whisper could not be delivered', { error });
      this.reply('unavailable', 0, 'the whisper could not be delivered; try again');
    }
  }

  /**
   * Hands the character to the process that owns `zone`: saved there first, then the handoff, then
   * the player is told where to reconnect. Inputs are ignored from the start, so nothing the player
   * is acknowledged is left behind. Refused (the player stays) when no live process owns the zone or
   * the save fails.
   */
  private async transferOut(zone: number): Promise<void> {
    const { world, presence, bus, saves, serverId, log, metrics } = this.gw.o;
    const p = this.player!;
    this.transferring = true;
    const refuse = (code: ErrorCode, message: string) => {
      this.transferring = false;
      if (this.state !== 'closed') this.reply(code, 0, message, true);
    };
    let owner: string | undefined;
    let url: string | undefined;
    try {
      owner = await presence.zoneOwner(zone);
      url = owner && owner !== serverId ? await presence.serverUrl(owner) : undefined;
    } catch (error) {
      log.debug('zone owner lookup failed', { error, zone });
      return refuse('unavailable', `cannot look up who serves zone ${zone} now; try again`);
    }
    if (!owner || owner === serverId || !url) return refuse('zone_unavailable', `zone ${zone} is not served by any process now`);
    if (this.isClosed) return;
    const size = world.config.zoneSize;
    const current = world.stateFor(p);
    const target: CharacterState = { ...current, zone, x: Math.random() * size, y: Math.random() * size, version: current.version + 1 };
    // Tracked like a pickup: a kick for this session answers `released` only after this save has
    // committed (or failed), so a login elsewhere never resumes from the pre-transfer state.
    const saved = saves.save([target], 'transfer');
    this.actions.add(saved);
    void saved.then(
      () => this.actions.delete(saved),
      () => this.actions.delete(saved),
    );
    try {
      await saved;
    } catch {
      p.version = target.version; // what we keep playing must outrank the row that may have landed
      p.changed = true;
      return refuse('unavailable', 'the move could not be saved; try again');
    }
    p.version = target.version;
    this.transferred = true;
    world.removePlayer(p);
    const handoff = { characterId: p.characterId, fromServerId: serverId, toZone: zone, state: target };
    await presence.putHandoff(handoff, HANDOFF_TTL_MS).catch((error: unknown) => log.warn('recording a handoff failed (the saved row carries it)', { error }));
    await bus
      .send(owner, { kind: 'transfer', characterId: p.characterId, accountId: p.accountId, toZone: zone, fromServerId: serverId })
      .catch((error: unknown) => log.warn('announcing a transfer failed (the player still lands there)', { error, to: owner }));
    if (this.accountId && this.sessionId) await presence.releaseSession(this.accountId, this.sessionId).catch(() => {});
    metrics.zoneTransfers.labels({ direction: 'out' }).inc();
    log.debug('player transferred', { characterId: p.characterId, zone, to: owner });
    if (this.isClosed) return;
    writeTransfer(this.out, zone, url);
    world.traffic.out(this.transport, SERVER_TYPE.transfer);
    this.markDirty();
    this.gw.flush();
    this.conn.close();
    this.closed('transferred');
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
    let carried: CharacterState | undefined;
    try {
      const sessionId = randomUUID();
      this.accountId = accountId;
      this.sessionId = sessionId;
      // One session per account: a session here is closed at once and its final state taken over.
      const local = this.gw.bind(this, accountId);
      if (local) local.kick('session_replaced', 'logged in elsewhere');
      carried = this.gw.handover.finalOf(accountId);
      const replaced = await presence.claimSession({ accountId, sessionId, serverId });
      if (replaced && replaced.serverId !== serverId) {
        // Held by another process: ask it to let go and wait (briefly) for its final state.
        const waitStarted = performance.now();
        const released = this.gw.handover.awaitRelease(accountId, replaced.sessionId, this.gw.o.releaseTimeoutMs ?? 2000);
        await bus.send(replaced.serverId, { kind: 'kick', accountId, sessionId: replaced.sessionId, reason: 'logged in elsewhere', replyTo: serverId });
        carried = newest(carried, await released);
        log.debug('took over a session from another process', { ms: Math.round(performance.now() - waitStarted), from: replaced.serverId, carried: carried !== undefined });
      }
      const account = guest ? undefined : await store.getAccount(accountId);
      const spawn = world.spawnPoint();
      const stored = await store.loadOrCreateCharacter(accountId, {
        name: account?.username ?? `guest-${accountId.replace(/-/g, '').slice(0, 6)}`,
        zone: spawn.zone,
        x: spawn.x,
        y: spawn.y,
        hp: MAX_HP,
        level: 1,
        xp: 0,
      });
      await this.gw.taking.get(stored.id);
      const handoff = this.gw.handover.arrive(stored.id) ?? (await presence.takeHandoff(stored.id).catch(() => undefined));
      if (handoff) {
        metrics.zoneTransfers.labels({ direction: 'in' }).inc();
        carried = newest(carried, parseState(handoff.state));
      }
      if (carried?.id !== stored.id) carried = undefined;
      const character: Character = carried && carried.version > stored.version ? { ...stored, ...carried } : stored;
      // Carried state newer than the row must reach the store even if the player leaves now.
      const unsaved = character !== stored ? carried : undefined;
      if (this.isClosed) {
        if (unsaved) void this.gw.o.saves.save([unsaved], 'logout').catch(() => {});
        return; // left while we were loading
      }
      if (!world.owns(character.zone) && (await this.redirect(character, unsaved))) return;
      const joined = world.addPlayer(character, this);
      if (!joined.ok) {
        if (unsaved) void this.gw.o.saves.save([unsaved], 'logout').catch(() => {});
        return this.kick(joined.code, joined.code === 'server_full' ? 'this server is full' : 'cannot join');
      }
      const p = joined.player;
      if (unsaved) p.changed = true;
      this.player = p;
      this.inventory = character.inventory;
      this.state = 'playing';
      this.gw.named(this, p.name);
      clearTimeout(this.helloTimer);
      this.welcome();
      metrics.connectionsTotal.labels({ transport: this.conn.transport }).inc();
    } catch (err) {
      if (carried) this.gw.handover.rememberFinal(accountId, this.sessionId ?? '', carried);
      log.error('hello failed', { error: err, transport: this.conn.transport });
      this.kick(isUnavailable(err) ? 'unavailable' : 'internal', 'the server could not load your character; try again');
    } finally {
      this.gw.helloEnded();
    }
  }

  /** Writes the welcome (the player's state now and the world settings) and the inventory. */
  private welcome(): void {
    const { world, serverId } = this.gw.o;
    const p = this.player;
    if (!p) return;
    const c = world.config;
    writeWelcome(this.out, {
      version: PROTOCOL_VERSION, playerId: p.id, name: p.name, serverId, zone: p.zone, zoneCount: c.zoneCount,
      zoneSize: c.zoneSize, x: p.x, y: p.y, hp: p.hp, maxHp: p.maxHp, tickRate: c.tickRate, patchRate: c.patchRate,
      interestRadius: c.interestRadius,
    });
    writeInventory(this.out, this.inventory.map((i) => ({ item: i.itemId, quantity: i.quantity })));
    world.traffic.out(this.transport, SERVER_TYPE.welcome);
    world.traffic.out(this.transport, SERVER_TYPE.inventory);
    this.markDirty();
  }

  /**
   * The character stands in a zone another live process owns: send the player there. Returns false
   * (play here; the world moves the character to a zone of ours) when no live process owns it.
   */
  private async redirect(character: Character, unsaved: CharacterState | undefined): Promise<boolean> {
    const { presence, serverId, saves, world, log } = this.gw.o;
    let url: string | undefined;
    try {
      const owner = await presence.zoneOwner(character.zone);
      url = owner && owner !== serverId ? await presence.serverUrl(owner) : undefined;
    } catch (error) {
      log.debug('zone owner lookup failed', { error, zone: character.zone });
    }
    if (!url || this.isClosed) return false;
    if (unsaved) await saves.save([unsaved], 'transfer');
    if (this.accountId && this.sessionId) await presence.releaseSession(this.accountId, this.sessionId).catch(() => {});
    writeTransfer(this.out, character.zone, url);
    world.traffic.out(this.transport, SERVER_TYPE.transfer);
    this.markDirty();
    this.gw.flush();
    this.conn.close();
    this.closed('redirected');
    return true;
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
