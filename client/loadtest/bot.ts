/**
 * One simulated player: a GameClient plus the seed scenario's behaviour. It walks toward random
 * waypoints inside its zone, chats, and attacks the nearest entity it can see. Bots never own a
 * timer: the thread's Scheduler calls `act` on their turn.
 *
 * Once joined, a bot reads server frames itself instead of through GameClient's decoder: it walks
 * each frame message by message (`serverMessageEnd`), reads the few fields it uses (ack times, its
 * own combat events, the latest two snapshots' positions when it attacks) and only counts the rest,
 * so thousands of bots per core do not spend their time building objects for names and chat lines
 * nobody reads. Like the demo page, a bot sees other players gliding between snapshots
 * (client/interpolation.ts): at 10 snapshots a second (the mmo send profile) it judges a target's
 * range where a player would see it, not where the last snapshot left it.
 */
import type { TransportName } from '../../contract/ports.ts';
import { GameClient, GameClientError } from '../game-client.ts';
import type { ServerLink, WebSocketConstructor } from '../link.ts';
import { ENTITY_FLAGS, SERVER_TYPE, SNAPSHOT_ENTITY_BYTES, SNAPSHOT_HEADER_BYTES, serverMessageEnd } from '../../protocol/codec.ts';
import { errorCodeName } from '../../protocol/errors.ts';
import { restingAt, shownX, shownY, type Glide } from '../interpolation.ts';
import { ATTACK, CHAT, MOVE } from './scheduler.ts';
import type { BotStats } from './stats.ts';

export interface BotConfig {
  readonly serverUrl: string;
  readonly transport: TransportName;
  readonly chatChannel: 'say' | 'zone' | 'global' | 'none';
  /** Zones bots join, round robin by bot index; undefined: every zone the server announces. */
  readonly zones: readonly number[] | undefined;
  readonly connectTimeoutMs: number;
  /** Extra attempts after the first failed one. */
  readonly connectRetries: number;
  /** World units per move turn. Kept below the server's speed clamp. */
  readonly step: number;
  readonly WebSocket?: WebSocketConstructor;
  /** Opens WebSocket transports (Node: `connectNodeWebSocket`); wins over `WebSocket`. */
  readonly openWebSocket?: (serverUrl: string, timeoutMs: number) => Promise<ServerLink>;
  /** Opens UDP transports instead of geckos' client. */
  readonly openUdp?: (serverUrl: string, timeoutMs: number) => Promise<ServerLink>;
  /** Gets a player token (POST /auth/guest). */
  readonly token: () => Promise<string>;
}

/** World units a bot walks per 100 ms move (2 units = 20 units/s). */
export const DEFAULT_STEP = 2;

export type BotState = 'idle' | 'connecting' | 'joined' | 'closed';

/** Message type byte → name, for the received counts. */
const TYPE_NAMES: string[] = [];
for (const [name, type] of Object.entries(SERVER_TYPE)) TYPE_NAMES[type] = name;
const Q = 65535;

export class Bot {
  readonly index: number;
  state: BotState = 'idle';
  client: GameClient | undefined;
  /** True once any move of this bot was acknowledged. */
  acked = false;
  private x = 0;
  private y = 0;
  private tx = 0;
  private ty = 0;
  private zoneSize = 0;
  private dead = false;
  private chats = 0;
  /** The frame holding the latest snapshot, where in it the snapshot starts, and when it came. */
  private snapFrame: Uint8Array | undefined;
  private snapAt = 0;
  private snapTime = 0;
  /** The same for the snapshot before it: targets are seen gliding between the two. */
  private prevFrame: Uint8Array | undefined;
  private prevAt = 0;
  /** Time between snapshots, from the welcome. */
  private snapshotIntervalMs = 50;
  /** Where the bot sees its target (client/interpolation.ts), reused for every attack. */
  private readonly seen: Glide = restingAt(0, 0, 0);
  private playerId = 0;
  private stopping = false;
  private readonly cfg: BotConfig;
  private readonly stats: BotStats;
  /** Called once the bot closes for good (after connect failure or a lost connection). */
  onGone: (bot: Bot) => void = () => {};
  /** Called once the bot has joined its zone and may be scheduled. */
  onJoined: (bot: Bot) => void = () => {};

  constructor(index: number, cfg: BotConfig, stats: BotStats) {
    this.index = index;
    this.cfg = cfg;
    this.stats = stats;
  }

  /** Gets a token, connects (with the configured retries) and joins; never rejects. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    const s = this.stats;
    s.connecting++;
    s.connectAttempts++;
    const started = performance.now();
    let client: GameClient;
    try {
      const token = await this.cfg.token();
      client = await GameClient.connect({
        url: this.cfg.serverUrl,
        token,
        transport: this.cfg.transport,
        connectTimeoutMs: this.cfg.connectTimeoutMs,
        attempts: this.cfg.connectRetries + 1,
        ...(this.cfg.WebSocket ? { WebSocket: this.cfg.WebSocket } : {}),
        ...(this.cfg.openWebSocket ? { openWebSocket: this.cfg.openWebSocket } : {}),
        ...(this.cfg.openUdp ? { openUdp: this.cfg.openUdp } : {}),
      });
    } catch (err) {
      s.connecting--;
      s.connectFailures++;
      s.countError(err instanceof GameClientError ? err.code : 'connect_failed');
      this.state = 'closed';
      this.onGone(this);
      return;
    }
    s.connecting--;
    if (this.stopping) {
      client.close();
      this.state = 'closed';
      this.onGone(this);
      return;
    }
    s.connectTime.record((performance.now() - started) * 1000);
    this.client = client;
    this.attach(client);
    const w = client.welcome;
    this.zoneSize = w.zoneSize;
    this.snapshotIntervalMs = 1000 / Math.max(1, w.patchRate);
    this.x = w.x;
    this.y = w.y;
    this.pickWaypoint();
    const zones = this.cfg.zones;
    const zone = zones ? zones[this.index % zones.length]! : this.index % Math.max(1, w.zoneCount);
    if (zone !== w.zone) {
      client.join(zone);
      this.stats.countSent('join');
      // Moves are scheduled only after `joined`, so they land in the intended zone.
      return;
    }
    this.becomeJoined();
  }

  private becomeJoined(): void {
    if (this.state !== 'connecting') return;
    this.state = 'joined';
    this.stats.joined++;
    this.onJoined(this);
  }

  private attach(client: GameClient): void {
    const s = this.stats;
    const t = client.link;
    this.playerId = client.welcome.playerId;
    // From here on frames skip GameClient's decoder (see the file comment); only `close` is its.
    t.onFrame = (frame) => this.read(client, frame);
    const send = t.send.bind(t);
    t.send = (frame) => {
      s.bytesOut += frame.length;
      send(frame);
    };
    client.on('close', () => {
      if (this.state === 'joined') {
        s.joined--;
        if (!this.stopping) s.disconnects++;
      } else if (this.state === 'connecting' && !this.stopping) {
        // Closed while switching zones: a failed join.
        s.connectFailures++;
      }
      this.state = 'closed';
      this.onGone(this);
    });
  }

  /** Walks one server frame, acting on the messages a bot needs and counting every one. */
  private read(client: GameClient, frame: Uint8Array): void {
    const s = this.stats;
    s.bytesIn += frame.length;
    s.framesIn++;
    const n = frame.length;
    let view: DataView | undefined;
    for (let at = 0; at < n; ) {
      const end = serverMessageEnd(frame, at);
      if (end < 0) {
        s.countError('bad_frame');
        return;
      }
      const type = frame[at]!;
      s.countReceived(TYPE_NAMES[type] ?? `type_${type}`);
      switch (type) {
        case SERVER_TYPE.ack: {
          view ??= new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
          const rtt = performance.now() - view.getFloat64(at + 13, true);
          client.lastRttMs = rtt; // the next move reports it to the server
          s.acks++;
          s.rtt.record(rtt * 1000);
          if (!this.acked) {
            this.acked = true;
            s.acked++;
          }
          break;
        }
        case SERVER_TYPE.snapshot:
          this.prevFrame = this.snapFrame;
          this.prevAt = this.snapAt;
          this.snapFrame = frame;
          this.snapAt = at;
          this.snapTime = performance.now();
          break;
        case SERVER_TYPE.combat: {
          view ??= new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
          if (view.getUint32(at + 6, true) !== this.playerId) break;
          const kind = frame[at + 1];
          if (kind === 1) this.dead = true; // death
          else if (kind === 2) {
            // respawn: the target's position is the respawn point
            this.dead = false;
            this.x = view.getFloat32(at + 15, true);
            this.y = view.getFloat32(at + 19, true);
            this.pickWaypoint();
          }
          break;
        }
        case SERVER_TYPE.joined: {
          view ??= new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
          this.zoneSize = view.getUint32(at + 3, true);
          this.x = view.getFloat32(at + 7, true);
          this.y = view.getFloat32(at + 11, true);
          this.snapFrame = undefined;
          this.prevFrame = undefined;
          this.pickWaypoint();
          this.becomeJoined();
          break;
        }
        case SERVER_TYPE.error:
          s.countError(errorCodeName(frame[at + 1]!) ?? `code_${frame[at + 1]}`);
          break;
      }
      at = end;
    }
  }

  /** One scheduler turn: always a move, plus chat and/or attack on their turns. */
  act(actions: number): void {
    const c = this.client;
    if (this.state !== 'joined' || !c || this.dead) return;
    // A turn with more than a move leaves in one write: a socket write is most of a bot's cost.
    const several = actions !== MOVE;
    if (several) c.link.cork?.();
    this.walk();
    c.move(this.x, this.y);
    this.stats.movesSent++;
    this.stats.countSent('move');
    if (actions & CHAT && this.cfg.chatChannel !== 'none') {
      const text = `hello from bot ${this.index} #${++this.chats}`;
      c.chat(this.cfg.chatChannel, text);
      this.stats.countSent('chat');
    }
    if (actions & ATTACK) {
      const target = this.nearestTarget();
      if (target !== 0) {
        // strike reaches 60 units, bolt 200 (server/src/world/rules.ts); farther targets are skipped.
        c.attack(target, this.targetDistance <= 55 ? 'strike' : 'bolt');
        this.stats.countSent('attack');
      }
    }
    if (several) c.link.uncork?.();
  }

  /** Closes the connection (or abandons a connect in flight); the close is not counted as a loss. */
  stop(): void {
    this.stopping = true;
    if (this.client && this.state !== 'closed') this.client.close();
  }

  private walk(): void {
    const dx = this.tx - this.x;
    const dy = this.ty - this.y;
    const d = Math.hypot(dx, dy);
    const step = this.cfg.step;
    if (d <= step) {
      this.x = this.tx;
      this.y = this.ty;
      this.pickWaypoint();
      return;
    }
    this.x += (dx / d) * step;
    this.y += (dy / d) * step;
  }

  private pickWaypoint(): void {
    // Wander within 100 units, like players milling about a town, so interest cells stay populated.
    const size = this.zoneSize > 0 ? this.zoneSize : 1;
    this.tx = clamp(this.x + (Math.random() - 0.5) * 200, 1, size - 1);
    this.ty = clamp(this.y + (Math.random() - 0.5) * 200, 1, size - 1);
  }

  /** Distance to the entity nearestTarget returned last. */
  private targetDistance = 0;

  /**
   * Id of the closest live entity within bolt range in the latest snapshot; 0 when none. Its
   * distance (targetDistance) is to where a player would see it now: gliding from its place in the
   * snapshot before to the latest over one snapshot interval, as the demo page draws it.
   */
  private nearestTarget(): number {
    const f = this.snapFrame;
    if (!f) return 0;
    const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const at = this.snapAt;
    const scale = v.getUint32(at + 13, true) / Q;
    const count = v.getUint16(at + 17, true);
    let best = 0;
    let bestD = 195 * 195;
    let bestX = 0;
    let bestY = 0;
    for (let i = 0, r = at + SNAPSHOT_HEADER_BYTES; i < count; i++, r += SNAPSHOT_ENTITY_BYTES) {
      if (f[r + 9]! & (ENTITY_FLAGS.self | ENTITY_FLAGS.dead)) continue;
      const x = v.getUint16(r + 4, true) * scale;
      const y = v.getUint16(r + 6, true) * scale;
      const d = (x - this.x) ** 2 + (y - this.y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = v.getUint32(r, true);
        bestX = x;
        bestY = y;
      }
    }
    if (best === 0) return 0;
    const g = this.seen;
    const before = this.positionBefore(best);
    if (before) {
      g.fromX = before[0];
      g.fromY = before[1];
    } else {
      g.fromX = bestX;
      g.fromY = bestY;
    }
    g.toX = bestX;
    g.toY = bestY;
    g.at = this.snapTime;
    const now = performance.now();
    this.targetDistance = Math.hypot(shownX(g, now, this.snapshotIntervalMs) - this.x, shownY(g, now, this.snapshotIntervalMs) - this.y);
    return best;
  }

  /** Where entity `id` was in the snapshot before the latest, if it was in view. */
  private positionBefore(id: number): [number, number] | undefined {
    const f = this.prevFrame;
    if (!f) return undefined;
    const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const at = this.prevAt;
    const scale = v.getUint32(at + 13, true) / Q;
    const count = v.getUint16(at + 17, true);
    for (let i = 0, r = at + SNAPSHOT_HEADER_BYTES; i < count; i++, r += SNAPSHOT_ENTITY_BYTES) {
      if (v.getUint32(r, true) === id) return [v.getUint16(r + 4, true) * scale, v.getUint16(r + 6, true) * scale];
    }
    return undefined;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
