/**
 * The demo page's model of the world: what the server told us (welcome, snapshots, appear, combat)
 * plus the local player's predicted position. No DOM here, so it can be reasoned about alone.
 *
 * Other entities glide between snapshots (client/interpolation.ts): `interpolate(now)` before each
 * drawn frame moves them along, so at 10 snapshots a second (the mmo send profile) they still move
 * every frame.
 */
import { glideTo, restingAt, shownX, shownY, type Glide } from '../../../client/interpolation.ts';
import {
  ENTITY_FLAGS,
  readSnapshotEntity,
  type CombatMessage,
  type SnapshotEntity,
  type SnapshotMessage,
  type WelcomeMessage,
} from '../../../protocol/codec.ts';

/** Units per second the page walks: below the server's clamp (PLAYER_SPEED 200), so never cut short. */
export const WALK_SPEED = 150;

/** Entities that move further than this between two snapshots (a respawn) jump instead of gliding. */
const SNAP_DISTANCE = 100;

export interface Entity {
  id: number;
  /** Where it is shown now (see `interpolate`); the player itself: its predicted position. */
  x: number;
  y: number;
  /** From where it was shown to where the latest snapshot put it. */
  glide: Glide;
  hp: number;
  maxHp: number;
  name: string;
  dead: boolean;
  self: boolean;
  /** performance.now() of the last hit taken, for a flash. */
  hitAt: number;
}

export class GameModel {
  playerId = 0;
  zone = 0;
  zoneSize = 1000;
  interestRadius = 150;
  x = 0;
  y = 0;
  hp = 0;
  maxHp = 100;
  dead = false;
  /** Where click-to-move is heading; undefined when not walking to a point. */
  target: { x: number; y: number } | undefined;
  /** Entities in view, by id (the player included). */
  readonly entities = new Map<number, Entity>();
  /** Names and max HP learnt from `appear`, kept while out of view. */
  readonly known = new Map<number, { name: string; maxHp: number }>();
  acks = 0;
  snapshots = 0;
  /** Time between snapshots (the welcome's patch rate): how long an entity glides to its new place. */
  snapshotIntervalMs = 50;
  sendProfile: WelcomeMessage['sendProfile'] = 'action';

  /** Resets from a welcome (also after a reconnect). */
  welcome(w: WelcomeMessage): void {
    this.playerId = w.playerId;
    this.zone = w.zone;
    this.zoneSize = w.zoneSize;
    this.interestRadius = w.interestRadius;
    this.x = w.x;
    this.y = w.y;
    this.hp = w.hp;
    this.maxHp = w.maxHp;
    this.dead = w.hp <= 0;
    this.target = undefined;
    this.snapshotIntervalMs = 1000 / Math.max(1, w.patchRate);
    this.sendProfile = w.sendProfile;
    this.entities.clear();
    this.known.set(w.playerId, { name: w.name, maxHp: w.maxHp });
  }

  /** Moves to another zone's spawn point. */
  joined(zone: number, zoneSize: number, x: number, y: number): void {
    this.zone = zone;
    this.zoneSize = zoneSize;
    this.x = x;
    this.y = y;
    this.target = undefined;
    this.entities.clear();
  }

  /**
   * Replaces the view with the snapshot's entities, received at `now` (ms): the others start gliding
   * to their new places. Our own position stays predicted locally.
   */
  snapshot(s: SnapshotMessage, now: number): void {
    this.snapshots++;
    const seen = new Set<number>();
    const e: SnapshotEntity = { id: 0, x: 0, y: 0, hp: 0, flags: 0 };
    for (let i = 0; i < s.count; i++) {
      readSnapshotEntity(s, i, e);
      seen.add(e.id);
      const self = (e.flags & ENTITY_FLAGS.self) !== 0 || e.id === this.playerId;
      const info = this.known.get(e.id);
      const prev = this.entities.get(e.id);
      const ent: Entity = prev ?? { id: e.id, x: e.x, y: e.y, glide: restingAt(e.x, e.y, now), hp: e.hp, maxHp: 100, name: `#${e.id}`, dead: false, self, hitAt: 0 };
      if (prev) glideTo(ent.glide, e.x, e.y, now, this.snapshotIntervalMs, SNAP_DISTANCE);
      if (self) {
        ent.x = this.x;
        ent.y = this.y;
      }
      ent.hp = e.hp;
      ent.dead = (e.flags & ENTITY_FLAGS.dead) !== 0;
      ent.self = self;
      if (info) {
        ent.name = info.name;
        ent.maxHp = info.maxHp;
      }
      this.entities.set(e.id, ent);
      if (self) {
        this.hp = e.hp;
        this.dead = ent.dead;
      }
    }
    for (const id of this.entities.keys()) if (!seen.has(id)) this.entities.delete(id);
  }

  /** Moves every other entity to where it is shown at `now` (call before drawing a frame). */
  interpolate(now: number): void {
    const interval = this.snapshotIntervalMs;
    for (const e of this.entities.values()) {
      if (e.self) {
        e.x = this.x;
        e.y = this.y;
        continue;
      }
      e.x = shownX(e.glide, now, interval);
      e.y = shownY(e.glide, now, interval);
    }
  }

  /** Accepts the server's position when it disagrees with ours by more than rounding. */
  ack(x: number, y: number, wasX: number, wasY: number): void {
    this.acks++;
    if (Math.abs(x - wasX) > 0.5 || Math.abs(y - wasY) > 0.5) {
      this.x = x;
      this.y = y;
      this.target = undefined;
    }
  }

  combat(m: CombatMessage, now: number): void {
    const t = this.entities.get(m.target);
    if (t) {
      t.hp = m.hp;
      t.hitAt = now;
      if (m.kind === 'death') t.dead = true;
    }
    if (m.target !== this.playerId) return;
    this.hp = m.hp;
    if (m.kind === 'death') this.dead = true;
    if (m.kind === 'respawn') {
      this.dead = false;
      this.x = m.x;
      this.y = m.y;
      this.target = undefined;
    }
  }

  /**
   * Advances the local player by `dt` seconds along the keyboard direction (dx, dy), or toward the
   * click target. Returns true when the position changed (a move should be sent).
   */
  step(dt: number, dx: number, dy: number): boolean {
    if (this.dead) return false;
    let vx = dx;
    let vy = dy;
    if (vx !== 0 || vy !== 0) this.target = undefined;
    else if (this.target) {
      vx = this.target.x - this.x;
      vy = this.target.y - this.y;
    } else return false;
    const len = Math.hypot(vx, vy);
    if (len < 1e-6) {
      this.target = undefined;
      return false;
    }
    const dist = WALK_SPEED * dt;
    let nx: number;
    let ny: number;
    if (this.target && len <= dist) {
      nx = this.target.x;
      ny = this.target.y;
      this.target = undefined;
    } else {
      nx = this.x + (vx / len) * dist;
      ny = this.y + (vy / len) * dist;
    }
    nx = Math.min(this.zoneSize, Math.max(0, nx));
    ny = Math.min(this.zoneSize, Math.max(0, ny));
    if (nx === this.x && ny === this.y) return false;
    this.x = nx;
    this.y = ny;
    return true;
  }

  /** The closest live entity other than ourselves, within `range`. */
  nearest(range: number): Entity | undefined {
    let best: Entity | undefined;
    let bestD = range;
    for (const e of this.entities.values()) {
      if (e.self || e.dead) continue;
      const d = Math.hypot(e.x - this.x, e.y - this.y);
      if (d <= bestD) {
        bestD = d;
        best = e;
      }
    }
    return best;
  }
}
