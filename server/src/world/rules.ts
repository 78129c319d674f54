/**
 * Game rules as data and pure functions: movement speed, HP, skills, respawn. The world applies
 * them; unit tests check them without a world.
 */
import type { ErrorCode } from '../../../protocol/errors.ts';
import { SKILLS, type Skill } from '../../../protocol/codec.ts';

/** World units per second a player may move. */
export const PLAYER_SPEED = 200;
/** Movement budget a player may bank while standing still, in seconds of travel (absorbs jitter). */
export const MOVE_BURST_SECONDS = 0.5;
export const MAX_HP = 100;
/** Milliseconds from death to respawn. */
export const RESPAWN_MS = 3000;
/** XP for a kill; a level every LEVEL_XP. */
export const KILL_XP = 10;
export const LEVEL_XP = 100;

export interface SkillRule {
  /** Greatest distance to the target, in world units. */
  readonly range: number;
  readonly damage: number;
  readonly cooldownMs: number;
}

/** Indexed like protocol SKILLS. */
export const SKILL_RULES: Readonly<Record<Skill, SkillRule>> = {
  strike: { range: 60, damage: 12, cooldownMs: 800 },
  bolt: { range: 200, damage: 7, cooldownMs: 1500 },
};

export const SKILL_INDEX: Readonly<Record<Skill, number>> = Object.fromEntries(SKILLS.map((s, i) => [s, i])) as Record<Skill, number>;

/** Where a move ends: the target clamped into the zone, then cut to the distance budget. */
export interface MoveResult {
  x: number;
  y: number;
  /** Distance actually travelled (taken from the budget). */
  travelled: number;
}

/**
 * Authoritative movement: clamps (toX, toY) into [0, size]² and shortens the step from (x, y) to at
 * most `budget` units along the same direction. Writes into `out` (no allocation).
 */
export function clampMove(x: number, y: number, toX: number, toY: number, budget: number, size: number, out: MoveResult): MoveResult {
  const tx = toX < 0 ? 0 : toX > size ? size : toX;
  const ty = toY < 0 ? 0 : toY > size ? size : toY;
  const dx = tx - x;
  const dy = ty - y;
  const dist = Math.sqrt(dx * dx + dy * dy);
  if (dist <= budget) {
    out.x = tx;
    out.y = ty;
    out.travelled = dist;
  } else {
    const f = budget > 0 ? budget / dist : 0;
    out.x = x + dx * f;
    out.y = y + dy * f;
    out.travelled = budget > 0 ? budget : 0;
  }
  return out;
}

/** The state an attack check reads. */
export interface Combatant {
  readonly id: number;
  readonly zone: number;
  readonly x: number;
  readonly y: number;
  readonly dead: boolean;
}

/**
 * Why an attack is refused, or undefined when it lands. `readyAt` is when the skill is off cooldown
 * (world milliseconds).
 */
export function checkAttack(
  attacker: Combatant,
  target: Combatant | undefined,
  skill: Skill,
  readyAt: number,
  now: number,
): ErrorCode | undefined {
  if (attacker.dead) return 'dead';
  if (now < readyAt) return 'cooldown';
  if (!target || target.id === attacker.id || target.zone !== attacker.zone || target.dead) return 'invalid_target';
  const dx = target.x - attacker.x;
  const dy = target.y - attacker.y;
  const range = SKILL_RULES[skill].range;
  if (dx * dx + dy * dy > range * range) return 'invalid_target';
  return undefined;
}

/** Level for an amount of XP (level 1 at 0 XP). */
export function levelFor(xp: number): number {
  return 1 + Math.floor(xp / LEVEL_XP);
}
