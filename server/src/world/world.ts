/**
 * The world this process owns: its zones, the players in them, movement, combat, chat and the
 * interest-filtered snapshots each player receives.
 *
 * Time only enters through `step(elapsedMs)` (driven by the Ticker): the world never reads a clock.
 * Inputs (move, attack, chat, join) are applied when they arrive and answered at once into the
 * player's outgoing buffer; snapshots are written every patch interval. Writing to a player means
 * appending to `player.sink.out` and calling `sink.markDirty()`; the transport flushes the batch.
 *
 * Send profiles (MMO_SEND_PROFILE): in `action` every player's snapshot is written on the same
 * tick, once per patch interval, and what inputs answer leaves at once. In `mmo` each player has a
 * send phase: its snapshot is written on one tick of every `sendEvery`, and that tick is its frame
 * (`sink.frameDue()`), carrying whatever was written to it since. A player's phase follows its
 * inputs (`followInput`), so an acknowledgement waits for about a tick, not up to an interval.
 */
import type { BusMessage } from '../bus/bus.ts';
import type { SendProfile } from '../../../contract/env.ts';
import { FrameWriter, SERVER_TYPE, writeAck, writeAppear, writeCombat, writeJoined, type PlayerChatChannel, type Skill } from '../../../protocol/codec.ts';
import type { ErrorCode } from '../../../protocol/errors.ts';
import type { Character, CharacterState } from '../store/store.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import { GLOBAL_CHAT_BUDGET, ZoneChat, type ChatAudience } from './chat.ts';
import { InterestGrid, SlotTable } from './grid.ts';
import { Player, type PlayerSink } from './player.ts';
import { KILL_XP, MOVE_BURST_SECONDS, PLAYER_SPEED, RESPAWN_MS, SKILL_INDEX, SKILL_RULES, checkAttack, clampMove, levelFor, type MoveResult } from './rules.ts';
import { SnapshotWriter } from './snapshots.ts';
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
  /** Default `action`. */
  readonly sendProfile?: SendProfile;
}

/**
 * In the mmo profile, inputs in a row that ask for another tick of the interval than the player's
 * phase before the phase moves there: one late or early input does not move it.
 */
export const PHASE_SWITCH_AFTER = 3;
/**
 * An input arriving less than this share of a tick before the next tick is answered by the tick
 * after it: inputs that jitter around a tick then all ask for the same one (a wait of about a
 * tick) instead of half of them missing it by a whole interval.
 */
export const PHASE_MARGIN = 0.2;

interface Zone {
  readonly id: number;
  readonly grid: InterestGrid;
  readonly members: Player[];
  readonly chat: ZoneChat;
  /** Who the zone's chat reaches (made once per zone). */
  readonly audience: ChatAudience;
}

/**
 * New characters start in a town: a square at the centre of this process's first zone, small
 * enough (half-width a third of the interest radius) that everyone in it sees everyone else, so
 * the first players on a server meet at once. Once this many players stand in it, new characters
 * start at a random point in a random owned zone instead, which spreads a crowd (or a load test).
 */
export const TOWN_CAPACITY = 32;

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
  /**
   * The mmo profile: ticks between two frames of one player (the patch interval rounded up to whole
   * ticks, so frames are never closer than it). 0 in the action profile.
   */
  readonly sendEvery: number;
  private readonly publishGlobal: (message: BusMessage) => void;
  private readonly snapshots: SnapshotWriter;
  // Scratch, reused by every move and new player.
  private readonly moveOut: MoveResult = { x: 0, y: 0, travelled: 0 };
  private readonly scratch = new FrameWriter(512);
  /** Scratch for grid queries (`say` hearers, the town head count). */
  private readonly hearers: Int32Array;
  private readonly globalBudget: TokenBucket;

  constructor(config: WorldConfig, options: { traffic: Traffic; publishGlobal: (message: BusMessage) => void; rng?: () => number }) {
    this.config = config;
    this.traffic = options.traffic;
    this.publishGlobal = options.publishGlobal;
    this.rng = options.rng ?? Math.random;
    const capacity = config.maxPlayers + 1;
    this.slots = new SlotTable(capacity);
    this.bySlot = new Array<Player | undefined>(capacity).fill(undefined);
    for (let i = capacity - 1; i >= 0; i--) this.freeSlots.push(i);

    this.snapshots = new SnapshotWriter(capacity, { radius: config.interestRadius, zoneSize: config.zoneSize, traffic: this.traffic, bySlot: this.bySlot });
    this.hearers = new Int32Array(capacity);
    this.globalBudget = new TokenBucket(GLOBAL_CHAT_BUDGET[0], GLOBAL_CHAT_BUDGET[1], 0);
    for (const id of config.zones) {
      const grid = new InterestGrid(config.zoneSize, config.interestRadius, this.slots);
      const members: Player[] = [];
      const audience: ChatAudience = { members, grid, radius: config.interestRadius, bySlot: this.bySlot, hearers: this.hearers, traffic: this.traffic };
      this.zones.set(id, { id, grid, members, chat: new ZoneChat(), audience });
    }
    this.patchInterval = 1000 / Math.min(config.patchRate, config.tickRate);
    this.sendEvery = config.sendProfile === 'mmo' ? Math.max(1, Math.ceil(config.tickRate / config.patchRate - 1e-9)) : 0;
  }

  /** Snapshots (in the mmo profile: frames) each player receives per second. */
  get patchRate(): number {
    return this.sendEvery > 0 ? this.config.tickRate / this.sendEvery : Math.min(this.config.patchRate, this.config.tickRate);
  }

  /** Players currently in the world. */
  get population(): number {
    return this.count;
  }

  /** True when this process simulates `zone`. */
  owns(zone: number): boolean {
    return this.zones.has(zone);
  }

  /** Where a new character starts: in the town while it has room (see TOWN_CAPACITY), else anywhere. */
  spawnPoint(): { zone: number; x: number; y: number } {
    const ids = this.config.zones;
    const town = ids[0]!;
    const centre = this.config.zoneSize / 2;
    const half = this.config.interestRadius / 3;
    // The circle around the square's corners: a few players just outside may count, which only
    // sends a newcomer out of town a little early.
    if (this.zones.get(town)!.grid.query(centre, centre, half * Math.SQRT2, this.hearers) < TOWN_CAPACITY) {
      return { zone: town, x: centre + (this.rng() * 2 - 1) * half, y: centre + (this.rng() * 2 - 1) * half };
    }
    const zone = ids[Math.floor(this.rng() * ids.length)] ?? town;
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
    this.scratch.reset();
    writeAppear(this.scratch, p.id, p.maxHp, p.name);
    p.appear = this.scratch.copy();
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
    // The welcome leaves at once; the first snapshot frame one interval later.
    p.nextSendTick = this.tick + Math.max(1, this.sendEvery);
    this.enterZone(p, p.zone);
    return { ok: true, player: p };
  }

  /** Takes a player out of the world; returns its final state for saving. */
  removePlayer(p: Player): CharacterState {
    if (!p.removed) {
      p.removed = true;
      this.leaveZone(p);
      this.bySlot[p.slot] = undefined;
      // Whoever gets this slot next is someone else: forget it was announced.
      const word = p.slot >>> 5;
      const keep = ~(1 << (p.slot & 31));
      for (const other of this.byId.values()) if (word < other.known.length) other.known[word]! &= keep;
      this.byId.delete(p.id);
      if (this.byCharacter.get(p.characterId) === p) this.byCharacter.delete(p.characterId);
      this.freeSlots.push(p.slot);
      this.count--;
    }
    return this.stateFor(p);
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

  /**
   * The mmo profile: an input of `p` (one of its regular moves) arrived `untilTickMs` before the next
   * tick is due. When its inputs keep asking for another tick of the interval than its phase
   * (PHASE_SWITCH_AFTER in a row), the phase moves there, so what answers them waits for about a
   * tick at most instead of up to a whole interval. The phase only ever moves later: the frame
   * after a move is further away, never closer than one interval. No-op in the action profile.
   */
  followInput(p: Player, untilTickMs: number): void {
    const every = this.sendEvery;
    if (every < 2) return;
    const tickMs = 1000 / this.config.tickRate;
    const want = (this.tick + (untilTickMs < tickMs * PHASE_MARGIN ? 2 : 1)) % every;
    const phase = p.nextSendTick % every;
    if (phase === want) {
      p.phaseMisses = 0;
      return;
    }
    if (++p.phaseMisses < PHASE_SWITCH_AFTER) return;
    p.phaseMisses = 0;
    p.nextSendTick += (want - phase + every) % every;
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

  /**
   * `say` goes to the players within the interest radius of where it was said, zone chat to
   * everyone in the zone, global chat through the bus to every process. Lines are delivered with
   * the next tick, batched. Returns `rate_limited` when the zone's or this process's global
   * channel is over its budget (the line is dropped).
   */
  chat(p: Player, channel: PlayerChatChannel, text: string): ErrorCode | undefined {
    if (channel === 'global') {
      if (!this.globalBudget.take(this.now)) return 'rate_limited';
      this.publishGlobal({ kind: 'chat', from: p.characterId, fromName: p.name, text, sentAt: this.now });
      return undefined;
    }
    const zone = this.zones.get(p.zone);
    if (!zone) return undefined;
    if (channel === 'say') {
      zone.chat.say(p, text);
      return undefined;
    }
    return zone.chat.zone(p, text, this.now);
  }

  /** Delivers a bus message (global chat, admin broadcast) to every local player with the next tick. */
  receive(message: BusMessage): void {
    if (message.kind !== 'chat' && message.kind !== 'broadcast') return;
    const fromId = message.kind === 'chat' ? (this.byCharacter.get(message.from)?.id ?? 0) : 0;
    const fromName = message.kind === 'chat' ? message.fromName : 'server';
    for (const zone of this.zones.values()) {
      if (zone.members.length > 0) zone.chat.global(fromId, fromName, message.text);
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
   * patch is due, writes every player's snapshot (in the mmo profile: the snapshots of the players
   * whose frame is due this tick). Returns true when it patched.
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
      zone.chat.deliver(zone.audience);
    }
    if (this.sendEvery > 0) {
      for (const zone of this.zones.values()) if (zone.members.length > 0) this.snapshots.write(zone, this.tick, this.now, this.sendEvery);
      return true;
    }
    this.patchDue += elapsedMs;
    if (this.patchDue + 1e-9 < this.patchInterval) return false;
    this.patchDue -= this.patchInterval;
    if (this.patchDue > this.patchInterval) this.patchDue = 0; // after a stall, do not burst
    this.patch();
    return true;
  }

  /** Writes a snapshot of its surroundings to every player (./snapshots.ts). */
  patch(): void {
    for (const zone of this.zones.values()) if (zone.members.length > 0) this.snapshots.write(zone, this.tick, this.now, 0);
  }

  /** States of characters changed since the last call (marks them saved). */
  takeChanged(): CharacterState[] {
    const states: CharacterState[] = [];
    for (const p of this.byId.values()) if (p.changed) states.push(this.stateFor(p));
    return states;
  }

  /**
   * The player's current state for a save (the batch, a durable action, a transfer, a logout);
   * marks it saved, bumping its version when it changed.
   */
  stateFor(p: Player): CharacterState {
    if (p.changed) {
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
