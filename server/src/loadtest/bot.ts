/**
 * One simulated player: a GameClient plus the seed scenario's behaviour. It walks toward random
 * waypoints inside its zone, chats, and attacks the nearest entity it can see. Bots never own a
 * timer: the thread's Scheduler calls `act` on their turn.
 */
import { GameClient, GameClientError } from '../client/game-client.ts';
import type { WebSocketConstructor } from '../client/transport.ts';
import { ENTITY_FLAGS, readSnapshotEntity, type SnapshotEntity, type SnapshotMessage } from '../protocol/codec.ts';
import { ATTACK, CHAT } from './scheduler.ts';
import type { BotStats } from './stats.ts';

export interface BotConfig {
  readonly serverUrl: string;
  readonly transport: 'ws' | 'udp';
  readonly chatChannel: 'zone' | 'global' | 'none';
  /** Zones bots join, round robin by bot index; undefined: every zone the server announces. */
  readonly zones: readonly number[] | undefined;
  readonly connectTimeoutMs: number;
  /** Extra attempts after the first failed one. */
  readonly connectRetries: number;
  /** World units per move turn. Kept below the server's speed clamp. */
  readonly step: number;
  readonly WebSocket?: WebSocketConstructor;
  /** Gets a player token (POST /auth/guest). */
  readonly token: () => Promise<string>;
}

/** World units a bot walks per 100 ms move (2 units = 20 units/s). */
export const DEFAULT_STEP = 2;

export type BotState = 'idle' | 'connecting' | 'joined' | 'closed';

const scratch: SnapshotEntity = { id: 0, x: 0, y: 0, hp: 0, flags: 0 };

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
  private snapshot: SnapshotMessage | undefined;
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
    const t = client.transport;
    const onFrame = t.onFrame;
    t.onFrame = (frame) => {
      s.bytesIn += frame.length;
      onFrame(frame);
    };
    const send = t.send.bind(t);
    t.send = (frame) => {
      s.bytesOut += frame.length;
      send(frame);
    };
    client.on('ack', (m) => {
      s.countReceived('ack');
      s.acks++;
      s.rtt.record((performance.now() - m.clientTime) * 1000);
      if (!this.acked) {
        this.acked = true;
        s.acked++;
      }
    });
    client.on('snapshot', (m) => {
      s.countReceived('snapshot');
      this.snapshot = m;
    });
    client.on('joined', (m) => {
      s.countReceived('joined');
      this.zoneSize = m.zoneSize;
      this.x = m.x;
      this.y = m.y;
      this.pickWaypoint();
      this.becomeJoined();
    });
    client.on('combat', (m) => {
      s.countReceived('combat');
      if (m.target !== client.welcome.playerId) return;
      if (m.kind === 'death') this.dead = true;
      else if (m.kind === 'respawn') {
        this.dead = false;
        this.x = m.x;
        this.y = m.y;
        this.pickWaypoint();
      }
    });
    client.on('error', (m) => {
      s.countReceived('error');
      s.countError(m.name ?? `code_${m.code}`);
    });
    for (const type of ['appear', 'chat', 'pong', 'welcome'] as const) client.on(type, () => s.countReceived(type));
    client.on('reconnect', () => s.countReceived('reconnect'));
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

  /** One scheduler turn: always a move, plus chat and/or attack on their turns. */
  act(actions: number): void {
    const c = this.client;
    if (this.state !== 'joined' || !c || this.dead) return;
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

  /** Id of the closest live entity within bolt range in the latest snapshot; 0 when none. */
  private nearestTarget(): number {
    const snap = this.snapshot;
    if (!snap) return 0;
    let best = 0;
    let bestD = 195 * 195;
    for (let i = 0; i < snap.count; i++) {
      const e = readSnapshotEntity(snap, i, scratch);
      if (e.flags & (ENTITY_FLAGS.self | ENTITY_FLAGS.dead)) continue;
      const d = (e.x - this.x) ** 2 + (e.y - this.y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = e.id;
      }
    }
    this.targetDistance = Math.sqrt(bestD);
    return best;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
