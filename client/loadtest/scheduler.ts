/**
 * The bot scheduler: one timer drives every bot of a thread. The move period is cut into slots;
 * each bot lives in one slot, so bots are spread evenly over the period and each timer callback
 * touches only the bots whose turn it is (not three timers per bot). Chat and attack happen every
 * Nth move turn, with per-bot phases so they are spread too.
 *
 * `advance(now)` is pure bookkeeping over the given clock and is what the unit tests drive; `start()`
 * runs it from a timer with performance.now().
 */
import { Histogram } from './histogram.ts';

/** How often each bot acts, in milliseconds. */
export interface Scenario {
  readonly moveMs: number;
  readonly chatMs: number;
  readonly attackMs: number;
}

/** The seed's load scenario: move every 100 ms, chat every 5 s, attack every 2 s. */
export const SEED_SCENARIO: Scenario = { moveMs: 100, chatMs: 5000, attackMs: 2000 };

/** Bit flags passed to the action callback. MOVE is set on every turn. */
export const MOVE = 1;
export const CHAT = 2;
export const ATTACK = 4;

/** Thrown for a scenario the scheduler cannot express (periods not multiples of the move period). */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** Checks a scenario and returns how many move turns separate chats and attacks. */
export function turnsOf(s: Scenario): { chatEvery: number; attackEvery: number } {
  for (const [key, v] of Object.entries(s)) {
    if (!Number.isFinite(v) || v <= 0) {
      throw new ScenarioError(`scenario.${key}: expected a positive number of milliseconds, got ${v}`);
    }
  }
  const chatEvery = s.chatMs / s.moveMs;
  const attackEvery = s.attackMs / s.moveMs;
  if (!Number.isInteger(chatEvery) || !Number.isInteger(attackEvery)) {
    throw new ScenarioError(
      `scenario: chatMs (${s.chatMs}) and attackMs (${s.attackMs}) must be whole multiples of moveMs (${s.moveMs})`,
    );
  }
  return { chatEvery, attackEvery };
}

interface Entry<B> {
  bot: B;
  turn: number;
  chatPhase: number;
  attackPhase: number;
}

export interface SchedulerOptions<B> {
  readonly scenario: Scenario;
  /** Slot length in ms; the move period must be a whole multiple. Default 10. */
  readonly slotMs?: number;
  /** Called for each bot on its turn with MOVE, plus CHAT and/or ATTACK on those turns. */
  readonly act: (bot: B, actions: number) => void;
}

export class Scheduler<B> {
  readonly slotMs: number;
  readonly slotCount: number;
  private readonly act: (bot: B, actions: number) => void;
  private readonly chatEvery: number;
  private readonly attackEvery: number;
  private readonly slots: Entry<B>[][];
  private readonly where = new Map<B, number>();
  private added = 0;
  /** Index (counted from the start, never wrapping) of the next slot to run. */
  private nextSlot = 0;
  private origin = 0;
  private timer: NodeJS.Timeout | undefined;

  /** How late slots ran, in µs, one sample per slot run: the generator's own health. */
  readonly lag = new Histogram();
  /** Slots skipped because the thread fell more than a whole move period behind. */
  skippedSlots = 0;

  constructor(options: SchedulerOptions<B>) {
    const { chatEvery, attackEvery } = turnsOf(options.scenario);
    this.slotMs = options.slotMs ?? 10;
    const count = options.scenario.moveMs / this.slotMs;
    if (!Number.isInteger(count) || count < 1) {
      throw new ScenarioError(
        `scheduler: moveMs (${options.scenario.moveMs}) must be a whole multiple of slotMs (${this.slotMs})`,
      );
    }
    this.slotCount = count;
    this.chatEvery = chatEvery;
    this.attackEvery = attackEvery;
    this.act = options.act;
    this.slots = Array.from({ length: count }, () => []);
  }

  /** Number of bots scheduled. */
  get size(): number {
    return this.where.size;
  }

  /**
   * Schedules `bot`. Consecutive bots go to consecutive slots, and their chat/attack phases are
   * staggered, so N bots produce a steady N/period rate rather than bursts.
   */
  add(bot: B): void {
    if (this.where.has(bot)) return;
    const n = this.added++;
    const slot = n % this.slotCount;
    // Bot n chats at slot time (n % chatEvery)·slotCount + slot within each chat period: distinct
    // for consecutive bots, so even a handful of bots do not chat in the same instant.
    this.slots[slot]!.push({ bot, turn: 0, chatPhase: n % this.chatEvery, attackPhase: n % this.attackEvery });
    this.where.set(bot, slot);
  }

  /** Stops scheduling `bot`; its callback is not called again. */
  remove(bot: B): void {
    const slot = this.where.get(bot);
    if (slot === undefined) return;
    this.where.delete(bot);
    const list = this.slots[slot]!;
    const i = list.findIndex((e) => e.bot === bot);
    if (i >= 0) {
      list[i] = list[list.length - 1]!;
      list.pop();
    }
  }

  /** Sets the clock reading at which slot 0 is due. */
  reset(now: number): void {
    this.origin = now;
    this.nextSlot = 0;
  }

  /**
   * Runs every slot due at or before `now`. When the thread is more than one move period behind,
   * the oldest slots are skipped (counted in skippedSlots) so no bot acts twice in one period.
   * Returns the number of slots run.
   */
  advance(now: number): number {
    const due = Math.floor((now - this.origin) / this.slotMs); // last slot index due
    if (due < this.nextSlot) return 0;
    const behind = due - this.nextSlot + 1;
    if (behind > this.slotCount) {
      this.skippedSlots += behind - this.slotCount;
      this.nextSlot = due - this.slotCount + 1;
    }
    let ran = 0;
    for (; this.nextSlot <= due; this.nextSlot++) {
      this.lag.record((now - (this.origin + this.nextSlot * this.slotMs)) * 1000);
      this.runSlot(this.nextSlot % this.slotCount);
      ran++;
    }
    return ran;
  }

  private runSlot(slot: number): void {
    const list = this.slots[slot]!;
    // Iterate over a stable length: a callback may remove its own bot (swap-remove) or add others.
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const t = e.turn++;
      let actions = MOVE;
      if (t % this.chatEvery === e.chatPhase) actions |= CHAT;
      if (t % this.attackEvery === e.attackPhase) actions |= ATTACK;
      const before = list.length;
      this.act(e.bot, actions);
      if (list.length < before && list[i] !== e) i--; // the current entry was swap-removed
    }
  }

  /** Drives advance() from a timer every slotMs until stop(). */
  start(): void {
    if (this.timer) return;
    this.reset(performance.now());
    this.timer = setInterval(() => this.advance(performance.now()), this.slotMs);
  }

  /** Stops the timer (bots stay scheduled). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
