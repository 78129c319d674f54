/**
 * One player connection, either transport, from open to close: the state machine (new → hello →
 * playing → closed) and the frame loop. Every inbound frame is rate-limited, decoded and validated
 * here, then applied to the world or handed to the module that handles its kind: ./login.ts
 * (hello), ./transfer.ts (joining a zone another process owns), ./actions.ts (pickup, whisper).
 * What the world and those modules write goes into `out`; the gateway sends it as one frame per
 * connection per flush: soon after it is written (the action send profile), or, while the player
 * is in the world under the mmo profile, with the player's next frame (see World).
 *
 * Rules a caller may rely on: a handler never throws; a malformed or refused message costs its
 * sender an error reply (rate-limited) and a strike; too many strikes close that connection only.
 */
import { TokenBucket } from '../limits/token-bucket.ts';
import {
  CLIENT_TYPE,
  FrameWriter,
  SERVER_TYPE,
  decodeClientMessage,
  writeError,
  writePong,
  type ClientMessage,
} from '../../../protocol/codec.ts';
import type { ErrorCode } from '../../../protocol/errors.ts';
import type { InventoryItem } from '../store/store.ts';
import type { DisconnectReason } from '../../../contract/metrics.ts';
import type { TransportName } from '../../../contract/ports.ts';
import { TRANSPORT_INDEX } from '../world/traffic.ts';
import type { Player, PlayerSink } from '../world/player.ts';
import { pickup, whisper } from './actions.ts';
import type { GatewayContext } from './context.ts';
import { login, welcome } from './login.ts';
import { transferOut } from './transfer.ts';

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

/** Per-connection limits by message kind: [burst, sustained per second]. */
export const CONNECTION_LIMITS = {
  /** Every frame, valid or not. */
  frames: [120, 60],
  move: [40, 30],
  /** `say` lines and whispers. */
  chat: [5, 1],
  /** Zone chat, on top of `chat`: one line per 5 s sustained (the zone's own budget caps the channel). */
  zoneChat: [3, 0.2],
  /** Global chat, on top of `chat`: one line per 30 s sustained. */
  globalChat: [2, 1 / 30],
  attack: [10, 5],
  ping: [10, 5],
  join: [4, 1],
  /** Pickups: each one is a database transaction. */
  pickup: [5, 2],
  /** Invalid or over-limit messages tolerated before the connection is closed for abuse. */
  strikes: [30, 3],
  /** Error replies (beyond this the errors are still counted, not sent). */
  errorReplies: [20, 5],
} as const satisfies Record<string, readonly [number, number]>;

export type LimitedKind = keyof typeof CONNECTION_LIMITS;

/** Above this many queued bytes a connection gets no snapshots. */
const CONGESTED_BYTES = 256 * 1024;

type State = 'new' | 'hello' | 'playing' | 'closed';

export class Session implements PlayerSink {
  readonly conn: Connection;
  readonly transport: number;
  out = new FrameWriter(512);
  /** Queued for the next flush. */
  dirty = false;
  player: Player | undefined;
  accountId: string | undefined;
  sessionId: string | undefined;
  /** The character's inventory as last loaded or granted. */
  inventory: readonly InventoryItem[] = [];
  /** Saves a replacing login must wait for: pickups and a zone transfer, until they commit or fail. */
  readonly actions = new Set<Promise<unknown>>();
  /** Set while the character is being handed to another process: inputs are ignored. */
  transferring = false;
  /** Set once the character was handed to another process: nothing left to save here. */
  transferred = false;
  private readonly ctx: GatewayContext;
  private state: State = 'new';
  /** The token of the hello that started this session (a repeat of it is answered, not refused). */
  private helloToken: string | undefined;
  private readonly buckets: Record<LimitedKind, TokenBucket>;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(ctx: GatewayContext, conn: Connection) {
    this.ctx = ctx;
    this.conn = conn;
    this.transport = TRANSPORT_INDEX[conn.transport];
    const now = ctx.now();
    this.buckets = Object.fromEntries(
      Object.entries(CONNECTION_LIMITS).map(([k, [burst, rate]]) => [k, new TokenBucket(burst, rate, now)]),
    ) as Record<LimitedKind, TokenBucket>;
    this.helloTimer = setTimeout(() => {
      if (this.state === 'new' || this.state === 'hello') this.kick('not_authenticated', 'no hello in time');
    }, ctx.helloTimeoutMs);
    this.helloTimer.unref?.();
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  markDirty(): void {
    // The mmo send profile: while the player is in the world, output waits for its frame (frameDue).
    if (this.dirty || (this.player !== undefined && this.ctx.world.sendEvery > 0)) return;
    this.dirty = true;
    this.ctx.schedule(this);
  }

  frameDue(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.ctx.schedule(this);
  }

  congested(): boolean {
    return this.conn.bufferedAmount() > CONGESTED_BYTES;
  }

  /** A message of `type` was written to `out`: counted, and the session queued for the flush. */
  queued(type: number): void {
    this.ctx.world.traffic.out(this.transport, type);
    this.markDirty();
  }

  /** Handles one inbound frame (text frames are refused). Never throws. */
  onFrame(data: Uint8Array | string): void {
    if (this.state === 'closed') return;
    try {
      const now = this.ctx.now();
      if (!this.buckets.frames.take(now)) return this.violation('rate_limited', 'too many frames', 0, now);
      if (typeof data === 'string') return this.violation('bad_frame', 'text frames are not part of the protocol', 0, now);
      const m = decodeClientMessage(data);
      if (m.type === 'invalid') return this.violation(m.code, m.detail, 0, now);
      this.ctx.world.traffic.in(this.transport, CLIENT_TYPE[m.type]);
      this.handle(m, now);
    } catch (err) {
      this.ctx.log.error('message handler failed', { error: err, transport: this.conn.transport });
      this.ctx.metrics.rejected('internal');
      this.reply('internal', 0, 'the server failed to handle this message');
    }
  }

  /** The login succeeded: the session plays `player` from now on. */
  play(player: Player, inventory: readonly InventoryItem[]): void {
    this.player = player;
    this.inventory = inventory;
    this.state = 'playing';
    this.ctx.named(this, player.name);
    clearTimeout(this.helloTimer);
  }

  /** The transport reports the connection closed (idempotent). */
  closed(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.ctx.forget(this);
    const p = this.player;
    this.player = undefined;
    const { world, presence, log, saves, handover } = this.ctx;
    const accountId = this.accountId;
    const sessionId = this.sessionId;
    const release = () => {
      if (accountId && sessionId) presence.releaseSession(accountId, sessionId).catch((err: unknown) => log.debug('releasing a session failed', { error: err }));
    };
    if (p && !this.transferred) {
      const state = world.removePlayer(p);
      // Until the save commits, a new login of this account takes the state from here. The
      // session stays claimed in Presence until then, so a login elsewhere asks us first.
      handover.rememberFinal(p.accountId, sessionId ?? '', state);
      saves.save([state], 'logout').then(
        () => {
          handover.committed(p.accountId, sessionId ?? '');
          release();
        },
        () => {}, // kept and retried by the save queue; the final state answers handovers meanwhile
      );
    } else {
      if (p) world.removePlayer(p);
      release();
    }
    if (p) this.ctx.metrics.disconnected(this.conn.transport, disconnectReason(reason, this.transferred));
    log.debug('connection closed', { transport: this.conn.transport, reason });
  }

  /**
   * Sends what is queued now and closes the connection. The session ends at once, not when the
   * transport reports the close: no input is applied after this, and the final state is ready for
   * whoever takes the character over.
   */
  end(reason: string): void {
    this.frameDue(); // what the mmo profile held for the next frame goes now
    this.ctx.flush();
    this.conn.close();
    this.closed(reason);
  }

  /** Sends an error, flushes it and closes the connection. */
  kick(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    writeError(this.out, code, 0, message);
    this.queued(SERVER_TYPE.error);
    this.end(`kicked: ${code}`);
  }

  /** An error reply to the player, within the reply budget unless `budgeted` (already taken). */
  reply(code: ErrorCode, ref: number, message: string, budgeted = false): void {
    if (!budgeted && !this.buckets.errorReplies.take(this.ctx.now())) return;
    writeError(this.out, code, ref, message);
    this.queued(SERVER_TYPE.error);
  }

  /** Tracks a save a replacing login must wait for, until it settles. */
  track(action: Promise<unknown>): void {
    this.actions.add(action);
    const done = () => this.actions.delete(action);
    void action.then(done, done);
  }

  private handle(m: ClientMessage, now: number): void {
    const ctx = this.ctx;
    if (this.state !== 'playing') {
      if (m.type !== 'hello') return this.violation('not_authenticated', 'say hello first', 0, now);
      // A repeated hello while the first is being answered: UDP clients resend it (see below).
      if (this.state !== 'new') return m.token === this.helloToken ? undefined : this.violation('already_authenticated', 'hello already received', 0, now);
      this.state = 'hello';
      this.helloToken = m.token;
      void login(ctx, this, m.token);
      return;
    }
    // Handing the character to another process: inputs now would be acknowledged and then lost.
    if (this.transferring) return;
    const world = ctx.world;
    const p = this.player!;
    switch (m.type) {
      case 'move':
        if (!this.buckets.move.take(now)) return this.violation('rate_limited', 'too many moves', m.seq, now);
        if (m.rtt && m.rtt > 0) ctx.metrics.inputAckLatency[this.conn.transport].observe(m.rtt / 1000);
        world.move(p, m.seq, m.x, m.y, m.clientTime);
        // Moves are a player's regular inputs: the mmo profile times its frames to follow them.
        if (world.sendEvery > 1) world.followInput(p, ctx.msToNextTick());
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
          void transferOut(ctx, this, m.zone);
          return;
        }
        const refusal = world.join(p, m.zone);
        if (refusal) this.reply(refusal, 0, `zone ${m.zone} is not served here`);
        return;
      }
      case 'ping':
        if (!this.buckets.ping.take(now)) return this.violation('rate_limited', 'too many pings', 0, now);
        writePong(this.out, m.nonce, m.clientTime, world.now);
        this.queued(SERVER_TYPE.pong);
        return;
      case 'whisper':
        if (!this.buckets.chat.take(now)) return this.violation('rate_limited', 'too many chat messages', 0, now);
        void whisper(ctx, this, m.to, m.text);
        return;
      case 'pickup':
        if (!this.buckets.pickup.take(now)) return this.violation('rate_limited', 'too many pickups', m.seq, now);
        pickup(ctx, this, m.seq, m.item);
        return;
      case 'hello':
        // On UDP a hello sent the moment the client's side of the channel opened can be lost, and
        // so can the welcome: clients resend hello until welcomed, and the same hello repeated on
        // this connection is answered with the welcome again (as often as pings are allowed).
        // Anything else is a second hello: a violation.
        if (m.token !== this.helloToken) return this.violation('already_authenticated', 'hello already received', 0, now);
        if (!this.buckets.ping.take(now)) return this.violation('rate_limited', 'too many hellos', 0, now);
        welcome(ctx, this);
        return;
    }
  }

  /** A protocol violation: counted, answered (within the reply budget), and a strike. */
  private violation(code: ErrorCode, detail: string, ref: number, now: number): void {
    this.ctx.metrics.rejected(code);
    if (!this.buckets.strikes.take(now)) {
      this.ctx.log.info('closing an abusive connection', { transport: this.conn.transport, remote: this.conn.remote, last: code });
      this.kick('abuse', 'too many invalid messages');
      return;
    }
    if (this.buckets.errorReplies.take(now)) this.reply(code, ref, detail, true);
  }
}

const refusalText: Partial<Record<ErrorCode, string>> = {
  cooldown: 'that skill is cooling down',
  invalid_target: 'no such target in range',
  dead: 'you are dead',
  zone_unavailable: 'zone not served here',
};

/**
 * Why a playing player left, from the reason the transport or the server gave: a WebSocket closed
 * normally (1000, 1001) or without a status (1005), a UDP channel closed, a zone transfer or a
 * drain's reconnect is the player leaving; an abnormal close is a lost connection.
 */
export function disconnectReason(reason: string, transferred: boolean): DisconnectReason {
  if (transferred) return 'left';
  if (reason === 'slow reader') return 'slow';
  if (reason.startsWith('kicked')) return 'kicked';
  const ws = /^ws (\d+)$/.exec(reason);
  if (ws) return ['1000', '1001', '1005'].includes(ws[1]!) ? 'left' : 'lost';
  return 'left';
}
