/**
 * Players that keep playing across drains and record what the servers acknowledged, so a test (or
 * the drain benchmark) can check that nothing acknowledged was lost: each bot is a ReconnectingClient
 * that walks in small steps and picks up items, remembering its last acknowledged position, the
 * moves sent after it, and how many pickups were granted or are still unanswered.
 *
 * The rule checked on every new welcome (and by `verify` after a restart): the character stands
 * where its last move was acknowledged, or where one of the moves sent after that put it (the
 * server may have applied a move whose ack the closing connection never delivered).
 */
import type { GameClient } from '../../client/game-client.ts';
import { NodeWebSocketImpl } from '../../client/node.ts';
import { ReconnectingClient, type ConnectedInfo } from '../../client/reconnecting-client.ts';

export interface Position {
  readonly x: number;
  readonly y: number;
}

export interface Landing extends ConnectedInfo {
  readonly serverId: string;
  readonly at: number;
}

const f32 = (v: number) => Math.fround(v);
const STEP = 6;

export class SwarmBot {
  readonly token: string;
  /** The player, reconnecting across drains and transfers; undefined until `start`. */
  player: ReconnectingClient | undefined;
  /** Every welcome, in order. */
  readonly landings: Landing[] = [];
  /** Broken promises: a welcome (or a check) that found the character somewhere it was never acknowledged. */
  readonly violations: string[] = [];
  lastAck: Position | undefined;
  /** Targets of moves sent since the last ack (as the server reads them: float32). */
  unacked: Position[] = [];
  /** Pickups answered `granted`, and pickups sent but not answered yet. */
  granted = 0;
  pickupsInFlight = 0;
  moving = true;
  private zoneSize = 1000;
  private client: GameClient | undefined;
  private pendingPickups = new Set<number>();

  constructor(token: string) {
    this.token = token;
  }

  /** Places where the character may stand without anything acknowledged having been lost. */
  allowed(): Position[] {
    return this.lastAck ? [this.lastAck, ...this.unacked] : [];
  }

  /** Records a violation unless `p` is an allowed position. */
  check(p: Position, where: string): boolean {
    const allowed = this.allowed();
    if (allowed.length === 0 || allowed.some((a) => a.x === f32(p.x) && a.y === f32(p.y))) return true;
    this.violations.push(`${where}: at (${p.x}, ${p.y}); last acknowledged (${this.lastAck!.x}, ${this.lastAck!.y}), ${this.unacked.length} unacknowledged moves`);
    return false;
  }

  async start(urls: readonly string[], options: { maxAttempts?: number; connectTimeoutMs?: number } = {}): Promise<void> {
    this.player = await ReconnectingClient.start({
      urls,
      token: this.token,
      transport: 'ws',
      WebSocket: NodeWebSocketImpl,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      attempts: 1,
      maxAttempts: options.maxAttempts ?? 20,
      onClient: (client, info) => this.attach(client, info),
    });
  }

  private attach(client: GameClient, info: ConnectedInfo): void {
    const w = client.welcome;
    this.landings.push({ ...info, serverId: w.serverId, at: performance.now() });
    this.check({ x: w.x, y: w.y }, `welcome #${this.landings.length} on ${w.serverId}`);
    this.lastAck = { x: w.x, y: w.y };
    this.unacked = [];
    // Pickups unanswered on the old connection stay unknown (committed or not): keep counting them.
    this.pendingPickups = new Set();
    this.zoneSize = w.zoneSize;
    this.client = client;
    let sent: Array<{ seq: number; p: Position }> = [];
    const move = client.move.bind(client);
    client.move = (x: number, y: number) => {
      const seq = move(x, y);
      const p = { x: f32(x), y: f32(y) };
      sent.push({ seq, p });
      this.unacked.push(p);
      return seq;
    };
    client.on('ack', (m) => {
      this.lastAck = { x: m.x, y: m.y };
      sent = sent.filter((s) => s.seq > m.seq);
      this.unacked = sent.map((s) => s.p);
    });
    client.on('granted', (m) => {
      if (!this.pendingPickups.delete(m.seq)) return;
      this.granted++;
      this.pickupsInFlight--;
    });
    client.on('error', (m) => {
      if (m.name === 'unavailable' && this.pendingPickups.delete(m.ref)) this.pickupsInFlight--;
    });
    client.on('close', () => {
      if (this.client === client) this.client = undefined;
    });
  }

  /** One step of play: a short walk, sometimes a pickup. */
  act(pickup: boolean): void {
    const c = this.client;
    if (!c || !this.moving || !this.lastAck) return;
    const from = this.unacked.at(-1) ?? this.lastAck;
    const clamp = (v: number) => Math.min(this.zoneSize - 1, Math.max(1, v));
    c.move(clamp(from.x + (Math.random() - 0.5) * 2 * STEP), clamp(from.y + (Math.random() - 0.5) * 2 * STEP));
    if (pickup) {
      this.pendingPickups.add(c.pickup('herb'));
      this.pickupsInFlight++;
    }
  }

  /** Checks a later state (a welcome after a restart) against what was acknowledged. */
  verify(p: Position, herbs: number, where: string): void {
    this.check(p, where);
    if (herbs < this.granted || herbs > this.granted + this.pickupsInFlight) {
      this.violations.push(`${where}: ${herbs} herbs; ${this.granted} granted, ${this.pickupsInFlight} unanswered`);
    }
  }
}

/** Drives every bot from one timer: each acts every `periodMs`, pickups every `pickupEvery` acts. */
export class Swarm {
  readonly bots: SwarmBot[];
  private timer: NodeJS.Timeout | undefined;
  private turn = 0;

  constructor(bots: SwarmBot[]) {
    this.bots = bots;
  }

  play(periodMs = 250, pickupEvery = 8): void {
    const slots = Math.max(1, Math.round(periodMs / 25));
    this.timer = setInterval(() => {
      const slot = this.turn++ % slots;
      for (let i = slot; i < this.bots.length; i += slots) {
        const round = Math.floor(this.turn / slots);
        this.bots[i]!.act((round + i) % pickupEvery === 0);
      }
    }, 25);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Starts every bot (`parallel` at a time). */
  async start(urls: readonly string[], parallel = 20, options?: Parameters<SwarmBot['start']>[1]): Promise<void> {
    for (let i = 0; i < this.bots.length; i += parallel) await Promise.all(this.bots.slice(i, i + parallel).map((b) => b.start(urls, options)));
  }

  violations(): string[] {
    return this.bots.flatMap((b, i) => b.violations.map((v) => `bot ${i}: ${v}`));
  }
}

/** Quantile of a list of numbers (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
