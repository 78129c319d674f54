/**
 * A player in the world (its character's state while it plays here) and the sink the world writes
 * its messages to, which a gateway session implements.
 */
import type { FrameWriter } from '../../../protocol/codec.ts';
import type { Character } from '../store/store.ts';
import { MAX_HP, MOVE_BURST_SECONDS, PLAYER_SPEED } from './rules.ts';

/** Where the world writes a player's messages; implemented by a gateway session. */
export interface PlayerSink {
  readonly out: FrameWriter;
  /** Transport index (TRANSPORT_INDEX) for traffic counters. */
  readonly transport: number;
  /**
   * Something was written to `out`: the transport sends it as the send profile says — soon (after
   * the current turn of the event loop, so what else this turn writes shares the frame) in the
   * action profile; with the player's next frame in the mmo profile.
   */
  markDirty(): void;
  /**
   * The player's frame is due (its snapshot was just written): send everything written to `out`
   * after the current turn of the event loop, whatever the profile.
   */
  frameDue(): void;
  /** True while the connection's send buffer is backed up: snapshots are skipped, not queued. */
  congested(): boolean;
}

/** A player in the world: what the simulation reads and changes, and how its saves are versioned. */
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
  /**
   * The mmo send profile: the tick at which this player's next frame (snapshot and everything held
   * for it) is written. Frames are `sendEvery` ticks apart; which tick of the interval is the
   * player's phase, moved to follow the player's inputs (World.followInputs).
   */
  nextSendTick = 0;
  /** Consecutive inputs that arrived just before another phase than the player's. */
  phaseMisses = 0;
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
