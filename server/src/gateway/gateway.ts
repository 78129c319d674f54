/**
 * Between the transports and the world: the registry of this process's sessions (one per
 * connection, either transport: ./session.ts). It admits connections, finds sessions by account
 * and by character name, answers what the Bus brings for them (kicks, whispers, transfers), drains
 * them, and sends each session's batched output as one frame per flush.
 *
 * Where each part of a session's life lives: the state machine and frame loop in ./session.ts,
 * the hello in ./login.ts, zone transfers and redirects in ./transfer.ts, pickups and whispers in
 * ./actions.ts, final states moving between sessions in ./handover.ts. They share ./context.ts,
 * which this class implements.
 */
import type { BusMessage } from '../bus/bus.ts';
import { FrameWriter, SERVER_TYPE, writeReconnect } from '../../../protocol/codec.ts';
import { whispered } from './actions.ts';
import type { GatewayContext, GatewayOptions } from './context.ts';
import { Handover } from './handover.ts';
import { Session, type Connection } from './session.ts';

/** Sessions claimed again at once after a Presence outage. */
const RECLAIM_CHUNK = 64;

/** Above this many queued bytes after a send a connection is closed: its peer does not read. */
const SLOW_CLOSE_BYTES = 4 * 1024 * 1024;

/** The services a session reaches through the context: the gateway's own properties, set from its options. */
export interface Gateway extends Required<GatewayOptions> {}

export class Gateway implements GatewayContext {
  readonly sessions = new Set<Session>();
  readonly handover = new Handover();
  readonly taking = new Map<string, Promise<void>>();
  draining = false;
  private readonly byAccount = new Map<string, Session>();
  private readonly byName = new Map<string, Session>();
  private dirty: Session[] = [];
  private flushScheduled = false;
  private logins = 0;

  constructor(options: GatewayOptions) {
    const halfTick = 500 / options.world.config.tickRate;
    Object.assign(this, options, {
      helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
      releaseTimeoutMs: options.releaseTimeoutMs ?? 2000,
      msToNextTick: options.msToNextTick ?? (() => halfTick),
    });
  }

  /** Registers a new connection; the transport feeds it frames and reports its close. */
  open(conn: Connection): Session {
    const s = new Session(this, conn);
    this.sessions.add(s);
    return s;
  }

  /** True when no further player can be admitted. */
  full(): boolean {
    return this.world.population + this.logins >= this.world.config.maxPlayers;
  }

  loginStarted(): void {
    this.logins++;
  }

  loginEnded(): void {
    this.logins--;
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
        if (s?.player) whispered(s, message.fromName, message.text);
        return;
      }
      case 'transfer': {
        // Take the handoff now, so it is ours even if the player is slow; exactly one taker wins.
        const id = message.characterId;
        const taking = this.presence.takeHandoff(id).then(
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
        this.world.receive(message);
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
    await this.bus
      .send(replyTo, { kind: 'released', accountId, sessionId, ...(state ? { state } : {}) })
      .catch((error: unknown) => this.log.warn('answering a session handover failed', { error, to: replyTo }));
  }

  /** Stops admitting players and tells every connected one to reconnect (elsewhere) soon. */
  drain(spreadMs: number): void {
    this.draining = true;
    for (const s of this.sessions) {
      if (s.player) {
        writeReconnect(s.out, 'draining', Math.floor(Math.random() * spreadMs));
        s.queued(SERVER_TYPE.reconnect);
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
          this.log.warn('closing a connection that does not read', { transport: s.conn.transport, remote: s.conn.remote });
          s.conn.close();
          // The session ends now, not when the transport reports the close: a WebSocket close
          // handshake with a peer that reads nothing can take 30 s, and meanwhile the player would
          // stay in the world with its inputs still applied. `closed` runs once; the transport's
          // later report is a no-op.
          s.closed('slow reader');
        }
      } catch (err) {
        this.log.debug('send failed', { error: err, transport: s.conn.transport });
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

  /** Makes a playing session findable by its character's name (whispers). */
  named(s: Session, name: string): void {
    this.byName.set(name, s);
  }

  /** The session playing the character named `name` in this process, if any. */
  sessionNamed(name: string): Session | undefined {
    return this.byName.get(name);
  }

  /**
   * Claims every playing session again in Presence (after Redis lost its data in an outage). A
   * session claimed meanwhile by a newer login elsewhere wins: ours is closed.
   */
  async reclaimSessions(): Promise<number> {
    const { presence, serverId } = this;
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
}
