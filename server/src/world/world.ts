/**
 * The world this process owns: its zones, the players in them, movement, combat, chat and the
 * interest-filtered snapshots each player receives.
 *
 * Time only enters through `step(elapsedMs)` (driven by the Ticker): the world never reads a clock.
 * Inputs (move, attack, chat, join) are applied when they arrive and answered at once into the
 * player's outgoing buffer; snapshots are written every patch interval. Writing to a player means
 * appending to `player.sink.out` and calling `sink.markDirty()`; the transport flushes the batch.
 */
import type { BusMessage } from '../bus/bus.ts';
import {
  FrameWriter,
  SERVER_TYPE,
  beginSnapshot,
  writeAck,
  writeAppear,
  writeChat,
  writeCombat,
  writeJoined,
  writeSnapshotEntity,
  ENTITY_FLAGS,
  type ChatChannel,
  type Skill,
} from '../protocol/codec.ts';
import type { ErrorCode } from '../protocol/errors.ts';
import type { Character, CharacterState } from '../store/store.ts';
import { InterestGrid, SlotTable } from './grid.ts';
import {
  KILL_XP,
  MAX_HP,
  MOVE_BURST_SECONDS,
  PLAYER_SPEED,
  RESPAWN_MS,
  SKILL_INDEX,
  SKILL_RULES,
  checkAttack,
  clampMove,
  levelFor,
  type MoveResult,
} from './rules.ts';
import type { Traffic } from './traffic.ts';

export interface WorldConfig {
  readonly zoneCount: number;
  readonly zoneSize: number;
  /** Zone ids this process owns (each < zoneCount). */
  readonly zones: readonly number[];
  readonly interestRadius: number;
  readonly tickRate: number;
  readonly patchRate: number;
  readonly maxPlayers: number;
}

/** Where the world writes a player's messages; implemented by a transport session. */
export interface PlayerSink {
  readonly out: FrameWriter;
  /** Transport index (TRANSPORT_INDEX) for traffic counters. */
  readonly transport: number;
  /** Asks the transport to flush `out` soon. */
  markDirty(): void;
  /** True while the connection's send buffer is backed up: snapshots are skipped, not queued. */
  congested(): boolean;
}

/** Most entities in one snapshot (bounds frame size in crowds). */
export const MAX_VISIBLE = 200;

export class Player {
  readonly id: number;
  readonly slot: number;
  readonly accountId: string;
  readonly characterId: string;
  readonly name: string;
  readonly sink: PlayerSink;
  zone: number;
  x: number;
  y: number;
  hp: number;
  readonly maxHp = MAX_HP;
  dead = false;
  respawnAt = 0;
  level: number;
  xp: number;
  /** Distance the player may still travel; refilled every tick. */
  moveBudget: number;
  /** World time at which each skill is ready again. */
  readonly readyAt = new Float64Array(2);
  /** Index in its zone's member list. */
  memberIndex = -1;
  /** Entities (slot, id) in the last snapshot, to send `appear` for newcomers only. */
  visSlots = new Int32Array(MAX_VISIBLE);
  visIds = new Uint32Array(MAX_VISIBLE);
  visCount = 0;
  /** Save bookkeeping: version of the last state handed to the store, and whether it changed since. */
  version: number;
  changed = false;
  removed = false;

  constructor(id: number, slot: number, character: Character, sink: PlayerSink) {
    this.id = id;
    this.slot = slot;
    this.accountId = character.accountId;
    this.characterId = character.id;
    this.name = character.name;
    this.sink = sink;
    this.zone = character.zone;
    this.x = character.x;
    this.y = character.y;
    this.hp = character.hp;
    this.level = character.level;
    this.xp = character.xp;
    this.version = character.version;
    this.moveBudget = PLAYER_SPEED * MOVE_BURST_SECONDS;
  }
}

interface Zone {
  readonly id: number;
  readonly grid: InterestGrid;
  readonly members: Player[];
}

/** Outcome of adding a player. */
export type JoinResult = { readonly ok: true; readonly player: Player } | { readonly ok: false; readonly code: ErrorCode };

export class World {
  readonly config: WorldConfig;
  /** World time in ms since start; advanced only by `step`. */
  now = 0;
  /** Ticks stepped so far. */
  tick = 0;
  readonly traffic: Traffic;
  private readonly rng: () => number;
  private readonly zones = new Map<number, Zone>();
  private readonly slots: SlotTable;
  private readonly bySlot: (Player | undefined)[];
  private readonly byId = new Map<number, Player>();
  private readonly byCharacter = new Map<string, Player>();
  private readonly freeSlots: number[] = [];
  private nextId = 1;
  private count = 0;
  private patchDue = 0;
  private readonly patchInterval: number;
  private readonly publishGlobal: (message: BusMessage) => void;
  // Scratch, reused by every query and patch.
  private readonly queryOut = new Int32Array(MAX_VISIBLE);
  private readonly markStamp: Uint32Array;
  private readonly markId: Uint32Array;
  private stamp = 0;
  private readonly moveOut: MoveResult = { x: 0, y: 0, travelled: 0 };
  private readonly scratch = new FrameWriter(512);

  constructor(config: WorldConfig, options: { traffic: Traffic; publishGlobal: (message: BusMessage) => void; rng?: () => number }) {
    this.config = config;
    this.traffic = options.traffic;
    this.publishGlobal = options.publishGlobal;
    this.rng = options.rng ?? Math.random;
    const capacity = config.maxPlayers + 1;
    this.slots = new SlotTable(capacity);
    this.bySlot = new Array<Player | undefined>(capacity).fill(undefined);
    for (let i = capacity - 1; i >= 0; i--) this.freeSlots.push(i);
    this.markStamp = new Uint32Array(capacity);
    this.markId = new Uint32Array(capacity);
    for (const id of config.zones) {
      this.zones.set(id, { id, grid: new InterestGrid(config.zoneSize, config.interestRadius, this.slots), members: [] });
    }
    this.patchInterval = 1000 / Math.min(config.patchRate, config.tickRate);
  }

  /** Players currently in the world. */
  get population(): number {
    return this.count;
  }

  /** True when this process simulates `zone`. */
  owns(zone: number): boolean {
    return this.zones.has(zone);
  }

  /** The zone a new character starts in, and a random point in it. */
  spawnPoint(): { zone: number; x: number; y: number } {
    const ids = this.config.zones;
    const zone = ids[Math.floor(this.rng() * ids.length)] ?? ids[0]!;
    return { zone, ...this.randomPoint() };
  }

  /** Players per zone id (for presence and metrics). */
  zoneCounts(): Map<number, Player[]> {
    const out = new Map<number, Player[]>();
    for (const z of this.zones.values()) out.set(z.id, z.members);
    return out;
  }

  /** The player with entity id `id`, if present. */
  player(id: number): Player | undefined {
    return this.byId.get(id);
  }

  /** Every player (cold path: drain, saves). */
  players(): IterableIterator<Player> {
    return this.byId.values();
  }

  /**
   * Places a loaded character in the world. A character saved in a zone this process does not own,
   * or outside the zone, is moved to a spawn point.
   */
  addPlayer(character: Character, sink: PlayerSink): JoinResult {
    if (this.count >= this.config.maxPlayers) return { ok: false, code: 'server_full' };
    const slot = this.freeSlots.pop();
    if (slot === undefined) return { ok: false, code: 'server_full' };
    const p = new Player(this.nextId++, slot, character, sink);
    if (this.nextId > 0xfffffff0) this.nextId = 1;
    const size = this.config.zoneSize;
    if (!this.zones.has(p.zone) || !(p.x >= 0 && p.x <= size && p.y >= 0 && p.y <= size)) {
      const s = this.spawnPoint();
      p.zone = s.zone;
      p.x = s.x;
      p.y = s.y;
      p.changed = true;
    }
    if (p.hp <= 0 || p.hp > p.maxHp) {
      p.hp = p.maxHp;
      p.changed = true;
    }
    this.bySlot[slot] = p;
    this.byId.set(p.id, p);
    this.byCharacter.set(p.characterId, p);
    this.count++;
    this.enterZone(p, p.zone);
    return { ok: true, player: p };
  }

  /** Takes a player out of the world; returns its final state for saving. */
  removePlayer(p: Player): CharacterState {
    if (!p.removed) {
      p.removed = true;
      this.leaveZone(p);
      this.bySlot[p.slot] = undefined;
      this.byId.delete(p.id);
      if (this.byCharacter.get(p.characterId) === p) this.byCharacter.delete(p.characterId);
      this.freeSlots.push(p.slot);
      this.count--;
    }
    return this.stateOf(p, true);
  }

  /** Applies a move at once and acknowledges it with the authoritative position. */
  move(p: Player, seq: number, x: number, y: number, clientTime: number): void {
    if (!p.dead) {
      const r = clampMove(p.x, p.y, x, y, p.moveBudget, this.config.zoneSize, this.moveOut);
      if (r.travelled > 0) {
        p.moveBudget -= r.travelled;
        p.x = r.x;
        p.y = r.y;
        p.changed = true;
        this.zones.get(p.zone)!.grid.move(p.slot, r.x, r.y);
      }
    }
    writeAck(p.sink.out, seq, p.x, p.y, clientTime);
    this.traffic.out(p.sink.transport, SERVER_TYPE.ack);
    p.sink.markDirty();
  }

  /** Resolves an attack; returns the refusal code, or undefined when it landed. */
  attack(p: Player, targetId: number, skill: Skill): ErrorCode | undefined {
    const target = this.byId.get(targetId);
    const i = SKILL_INDEX[skill];
    const refusal = checkAttack(p, target, skill, p.readyAt[i]!, this.now);
    if (refusal || !target) return refusal ?? 'invalid_target';
    const rule = SKILL_RULES[skill];
    p.readyAt[i] = this.now + rule.cooldownMs;
    const damage = Math.min(rule.damage, target.hp);
    target.hp -= damage;
    target.changed = true;
    this.combat(p, target, 'hit', skill, damage);
    if (target.hp <= 0) {
      target.dead = true;
      target.respawnAt = this.now + RESPAWN_MS;
      p.xp += KILL_XP;
      p.level = levelFor(p.xp);
      p.changed = true;
      this.combat(p, target, 'death', skill, 0);
    }
    return undefined;
  }

  /** Zone chat goes to everyone in the zone; global chat goes through the bus to every process. */
  chat(p: Player, channel: ChatChannel, text: string): void {
    if (channel === 'global') {
      this.publishGlobal({ kind: 'chat', from: p.characterId, fromName: p.name, text, sentAt: this.now });
      return;
    }
    const zone = this.zones.get(p.zone);
    if (zone) this.broadcastChat(zone.members, 'zone', p.id, p.name, text);
  }

  /** Delivers a bus message (global chat, admin broadcast) to every local player. */
  receive(message: BusMessage): void {
    if (message.kind === 'chat') {
      const from = this.byCharacter.get(message.from);
      for (const zone of this.zones.values()) this.broadcastChat(zone.members, 'global', from?.id ?? 0, message.fromName, message.text);
    } else if (message.kind === 'broadcast') {
      for (const zone of this.zones.values()) this.broadcastChat(zone.members, 'global', 0, 'server', message.text);
    }
  }

  /** Moves a player to another owned zone at a random point; answers `joined`. */
  join(p: Player, zone: number): ErrorCode | undefined {
    if (!this.zones.has(zone)) return 'zone_unavailable';
    if (zone !== p.zone) {
      this.leaveZone(p);
      const pt = this.randomPoint();
      p.x = pt.x;
      p.y = pt.y;
      p.changed = true;
      this.enterZone(p, zone);
    }
    writeJoined(p.sink.out, p.zone, this.config.zoneSize, p.x, p.y);
    this.traffic.out(p.sink.transport, SERVER_TYPE.joined);
    p.sink.markDirty();
    return undefined;
  }

  /**
   * Advances the world by `elapsedMs`: refills movement budgets, respawns the dead and, when a
   * patch is due, writes every player's snapshot. Returns true when it patched.
   */
  step(elapsedMs: number): boolean {
    this.now += elapsedMs;
    this.tick++;
    const refill = (PLAYER_SPEED * elapsedMs) / 1000;
    const cap = PLAYER_SPEED * MOVE_BURST_SECONDS;
    for (const zone of this.zones.values()) {
      const members = zone.members;
      for (let i = 0; i < members.length; i++) {
        const p = members[i]!;
        const b = p.moveBudget + refill;
        p.moveBudget = b > cap ? cap : b;
        if (p.dead && this.now >= p.respawnAt) this.respawn(p);
      }
    }
    this.patchDue += elapsedMs;
    if (this.patchDue + 1e-9 < this.patchInterval) return false;
    this.patchDue -= this.patchInterval;
    if (this.patchDue > this.patchInterval) this.patchDue = 0; // after a stall, do not burst
    this.patch();
    return true;
  }

  /** Writes a snapshot of its surroundings to every player. */
  patch(): void {
    const radius = this.config.interestRadius;
    const out = this.queryOut;
    const slots = this.slots;
    for (const zone of this.zones.values()) {
      const members = zone.members;
      const grid = zone.grid;
      for (let m = 0; m < members.length; m++) {
        const p = members[m]!;
        const sink = p.sink;
        if (sink.congested()) continue;
        const n = grid.query(p.x, p.y, radius, out);
        const w = sink.out;
        // Mark last snapshot's entities, then announce the ones that are new to this player.
        const stamp = ++this.stamp;
        for (let i = 0; i < p.visCount; i++) {
          const s = p.visSlots[i]!;
          this.markStamp[s] = stamp;
          this.markId[s] = p.visIds[i]!;
        }
        const transport = sink.transport;
        for (let i = 0; i < n; i++) {
          const s = out[i]!;
          const e = this.bySlot[s]!;
          if (this.markStamp[s] !== stamp || this.markId[s] !== e.id) {
            writeAppear(w, e.id, e.maxHp, e.name);
            this.traffic.out(transport, SERVER_TYPE.appear);
          }
          p.visSlots[i] = s;
          p.visIds[i] = e.id;
        }
        p.visCount = n;
        beginSnapshot(w, this.tick, this.now, n);
        for (let i = 0; i < n; i++) {
          const s = out[i]!;
          const e = this.bySlot[s]!;
          writeSnapshotEntity(w, e.id, slots.x[s]!, slots.y[s]!, e.hp, (e.dead ? ENTITY_FLAGS.dead : 0) | (e === p ? ENTITY_FLAGS.self : 0));
        }
        this.traffic.out(transport, SERVER_TYPE.snapshot);
        sink.markDirty();
      }
    }
  }

  /** States of characters changed since the last call (marks them saved). */
  takeChanged(): CharacterState[] {
    const states: CharacterState[] = [];
    for (const p of this.byId.values()) if (p.changed) states.push(this.stateOf(p, true));
    return states;
  }

  /**
   * The player's current state for a save that happens outside `takeChanged` (a durable action, a
   * transfer); marks it saved, bumping its version when it changed.
   */
  stateFor(p: Player): CharacterState {
    return this.stateOf(p, true);
  }

  private stateOf(p: Player, consume: boolean): CharacterState {
    if (consume && p.changed) {
      p.version++;
      p.changed = false;
    }
    return { id: p.characterId, zone: p.zone, x: p.x, y: p.y, hp: p.dead ? p.maxHp : p.hp, level: p.level, xp: p.xp, version: p.version };
  }

  private respawn(p: Player): void {
    const grid = this.zones.get(p.zone)!.grid;
    const pt = this.randomPoint();
    p.dead = false;
    p.hp = p.maxHp;
    p.x = pt.x;
    p.y = pt.y;
    p.changed = true;
    grid.move(p.slot, p.x, p.y);
    this.combat(p, p, 'respawn', 'strike', 0);
  }

  private combat(attacker: Player, target: Player, kind: 'hit' | 'death' | 'respawn', skill: Skill, damage: number): void {
    writeCombat(attacker.sink.out, kind, attacker.id, target.id, skill, damage, target.hp, target.x, target.y);
    this.traffic.out(attacker.sink.transport, SERVER_TYPE.combat);
    attacker.sink.markDirty();
    if (target !== attacker) {
      writeCombat(target.sink.out, kind, attacker.id, target.id, skill, damage, target.hp, target.x, target.y);
      this.traffic.out(target.sink.transport, SERVER_TYPE.combat);
      target.sink.markDirty();
    }
  }

  /** Encodes a chat message once and copies its bytes to every recipient. */
  private broadcastChat(members: readonly Player[], channel: ChatChannel, fromId: number, fromName: string, text: string): void {
    const scratch = this.scratch;
    scratch.reset();
    writeChat(scratch, channel, fromId, fromName, text);
    const bytes = scratch.written();
    for (let i = 0; i < members.length; i++) {
      const p = members[i]!;
      const w = p.sink.out;
      w.ensure(bytes.length);
      w.bytes.set(bytes, w.length);
      w.length += bytes.length;
      this.traffic.out(p.sink.transport, SERVER_TYPE.chat);
      p.sink.markDirty();
    }
  }

  private randomPoint(): { x: number; y: number } {
    const size = this.config.zoneSize;
    return { x: this.rng() * size, y: this.rng() * size };
  }

  private enterZone(p: Player, zoneId: number): void {
    const zone = this.zones.get(zoneId)!;
    p.zone = zoneId;
    p.memberIndex = zone.members.length;
    zone.members.push(p);
    zone.grid.insert(p.slot, p.x, p.y);
    p.visCount = 0;
  }

  private leaveZone(p: Player): void {
    const zone = this.zones.get(p.zone);
    if (!zone || p.memberIndex < 0) return;
    zone.grid.remove(p.slot);
    const last = zone.members.pop()!;
    if (last !== p) {
      zone.members[p.memberIndex] = last;
      last.memberIndex = p.memberIndex;
    }
    p.memberIndex = -1;
  }
}
