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
  SNAPSHOT_ENTITY_BYTES,
  beginSnapshot,
  encodeSnapshotRecord,
  writeAck,
  writeAppear,
  writeChat,
  writeCombat,
  writeJoined,
  ENTITY_FLAGS,
  type PlayerChatChannel,
  type Skill,
} from '../protocol/codec.ts';
import type { ErrorCode } from '../protocol/errors.ts';
import type { Character, CharacterState } from '../store/store.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
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
  /**
   * Asks the transport to flush `out` soon (after the current turn of the event loop, so what else
   * this turn writes, such as a tick's snapshot, shares the frame).
   */
  markDirty(): void;
  /** True while the connection's send buffer is backed up: snapshots are skipped, not queued. */
  congested(): boolean;
}

/** Most entities in one snapshot (bounds frame size in crowds). */
export const MAX_VISIBLE = 200;
const RECORD_STRIDE = 12;
/** Records are read as host-order words; writing them back in host order keeps the byte layout. */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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
  /**
   * Slots of the entities this player has been told about (`appear`), one bit each; grows to the
   * highest slot seen. A bit is cleared when its slot is freed, so a new entity in a reused slot is
   * announced again. Clients keep names of entities out of view.
   */
  known = new Uint32Array(8);
  /** This player's `appear` message, encoded once and copied to every new viewer. */
  appear: Uint8Array = new Uint8Array(0);
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
  /** Chat lines for this zone since the last tick, delivered to every member as one block. */
  readonly chat: FrameWriter;
  chatLines: number;
  /** `say` lines since the last tick, encoded back to back; `says` holds where each one starts and ends and where it was said. */
  readonly sayBytes: FrameWriter;
  readonly says: Say[];
  /** Zone chat lines this zone may still carry (see ZONE_CHAT_BUDGET). */
  readonly zoneBudget: TokenBucket;
}

interface Say {
  readonly start: number;
  readonly end: number;
  readonly x: number;
  readonly y: number;
}

/**
 * Chat budgets, [burst, lines per second] in world time: what a zone's channel and this process's
 * global channel carry at most, whoever speaks. Zone and global chat reach every player in the
 * zone (or everywhere), so their cost grows with the square of the population; a channel moving
 * faster than this is unreadable anyway. Lines beyond it are refused (`rate_limited`, not a
 * strike: the player did nothing wrong). `say` has no shared budget: it reaches only the players
 * in view, so its cost grows with the local crowd, like snapshots.
 */
export const ZONE_CHAT_BUDGET: readonly [number, number] = [20, 10];
export const GLOBAL_CHAT_BUDGET: readonly [number, number] = [10, 5];

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
  private readonly publishGlobal: (message: BusMessage) => void;
  // Scratch, reused by every query and patch.
  private readonly lists: Int32Array;
  private readonly counts: Int32Array;
  /**
   * Every entity's snapshot record (without the self flag), encoded once per patch, by slot, with a
   * 12-byte stride so it can be copied as u32 + u32 + u16 words.
   */
  private readonly records: Uint8Array;
  private readonly records32: Uint32Array;
  private readonly records16: Uint16Array;
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

    this.lists = new Int32Array(capacity * MAX_VISIBLE);
    this.counts = new Int32Array(capacity);
    this.records = new Uint8Array(capacity * RECORD_STRIDE);
    this.records32 = new Uint32Array(this.records.buffer);
    this.records16 = new Uint16Array(this.records.buffer);
    this.hearers = new Int32Array(capacity);
    this.globalBudget = new TokenBucket(GLOBAL_CHAT_BUDGET[0], GLOBAL_CHAT_BUDGET[1], 0);
    for (const id of config.zones) {
      this.zones.set(id, {
        id, grid: new InterestGrid(config.zoneSize, config.interestRadius, this.slots), members: [], chat: new FrameWriter(256), chatLines: 0,
        sayBytes: new FrameWriter(256), says: [], zoneBudget: new TokenBucket(ZONE_CHAT_BUDGET[0], ZONE_CHAT_BUDGET[1], 0),
      });
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
      const w = zone.sayBytes;
      const start = w.length;
      writeChat(w, 'say', p.id, p.name, text);
      zone.says.push({ start, end: w.length, x: p.x, y: p.y });
      return undefined;
    }
    if (!zone.zoneBudget.take(this.now)) return 'rate_limited';
    writeChat(zone.chat, 'zone', p.id, p.name, text);
    zone.chatLines++;
    return undefined;
  }

  /** Delivers a bus message (global chat, admin broadcast) to every local player with the next tick. */
  receive(message: BusMessage): void {
    if (message.kind !== 'chat' && message.kind !== 'broadcast') return;
    const fromId = message.kind === 'chat' ? (this.byCharacter.get(message.from)?.id ?? 0) : 0;
    const fromName = message.kind === 'chat' ? message.fromName : 'server';
    for (const zone of this.zones.values()) {
      if (zone.members.length === 0) continue;
      writeChat(zone.chat, 'global', fromId, fromName, message.text);
      zone.chatLines++;
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
      if (zone.chatLines > 0) this.deliverChat(zone);
      if (zone.says.length > 0) this.deliverSays(zone);
    }
    this.patchDue += elapsedMs;
    if (this.patchDue + 1e-9 < this.patchInterval) return false;
    this.patchDue -= this.patchInterval;
    if (this.patchDue > this.patchInterval) this.patchDue = 0; // after a stall, do not burst
    this.patch();
    return true;
  }

  /**
   * Writes a snapshot of its surroundings to every player. Per zone: one symmetric pair sweep of
   * the grid finds everyone's neighbours, every entity's record is encoded once, and each viewer's
   * snapshot is a byte copy of its neighbours' records (plus `appear` for newcomers).
   */
  patch(): void {
    const radius = this.config.interestRadius;
    const size = this.config.zoneSize;
    const lists = this.lists;
    const counts = this.counts;
    const records = this.records;
    const r32 = this.records32;
    const r16 = this.records16;
    const R = SNAPSHOT_ENTITY_BYTES;
    for (const zone of this.zones.values()) {
      const members = zone.members;
      if (members.length === 0) continue;
      zone.grid.collectVisible(radius, MAX_VISIBLE, lists, counts);
      for (let m = 0; m < members.length; m++) {
        const e = members[m]!;
        encodeSnapshotRecord(records, e.slot * RECORD_STRIDE, e.id, e.x, e.y, size, e.hp, e.dead ? ENTITY_FLAGS.dead : 0);
      }
      for (let m = 0; m < members.length; m++) {
        const p = members[m]!;
        const sink = p.sink;
        if (sink.congested()) continue;
        const base = p.slot * MAX_VISIBLE;
        const n = counts[p.slot]!;
        const w = sink.out;
        const transport = sink.transport;
        // Announce the visible entities this player has not been told about.
        let known = p.known;
        for (let i = 0; i < n; i++) {
          const s = lists[base + i]!;
          const word = s >>> 5;
          const bit = 1 << (s & 31);
          if (word < known.length && (known[word]! & bit) !== 0) continue;
          if (word >= known.length) {
            const grown = new Uint32Array(Math.max(word + 1, known.length * 2));
            grown.set(known);
            known = p.known = grown;
          }
          known[word]! |= bit;
          const a = this.bySlot[s]!.appear;
          w.ensure(a.length);
          w.bytes.set(a, w.length);
          w.length += a.length;
          this.traffic.out(transport, SERVER_TYPE.appear);
        }
        beginSnapshot(w, this.tick, this.now, size, n);
        // Word copies through a DataView: several times faster than a byte loop or set(subarray).
        const view = w.view;
        const first = w.length;
        let at = first;
        for (let i = 0; i < n; i++) {
          const q = lists[base + i]! * (RECORD_STRIDE / 4);
          view.setUint32(at, r32[q]!, HOST_LE);
          view.setUint32(at + 4, r32[q + 1]!, HOST_LE);
          view.setUint16(at + 8, r16[q * 2 + 4]!, HOST_LE);
          at += R;
        }
        w.bytes[first + R - 1]! |= ENTITY_FLAGS.self; // the player itself is always first
        w.length = at;
        this.traffic.out(transport, SERVER_TYPE.snapshot);
        sink.markDirty();
      }
    }
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

  /** Copies the zone's pending chat lines, as one block, to every member. */
  private deliverChat(zone: Zone): void {
    const bytes = zone.chat.written();
    const lines = zone.chatLines;
    const members = zone.members;
    for (let i = 0; i < members.length; i++) {
      const p = members[i]!;
      const w = p.sink.out;
      w.ensure(bytes.length);
      w.bytes.set(bytes, w.length);
      w.length += bytes.length;
      this.traffic.outMany(p.sink.transport, SERVER_TYPE.chat, lines);
      p.sink.markDirty();
    }
    zone.chat.reset();
    zone.chatLines = 0;
  }

  /** Copies each pending `say` line to the players within the interest radius of where it was said. */
  private deliverSays(zone: Zone): void {
    const bytes = zone.sayBytes.bytes;
    const hearers = this.hearers;
    const radius = this.config.interestRadius;
    for (const say of zone.says) {
      const n = zone.grid.query(say.x, say.y, radius, hearers);
      const line = bytes.subarray(say.start, say.end);
      const len = line.length;
      for (let i = 0; i < n; i++) {
        const p = this.bySlot[hearers[i]!];
        if (!p) continue;
        const w = p.sink.out;
        w.ensure(len);
        w.bytes.set(line, w.length);
        w.length += len;
        this.traffic.out(p.sink.transport, SERVER_TYPE.chat);
        p.sink.markDirty();
      }
    }
    zone.says.length = 0;
    zone.sayBytes.reset();
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
