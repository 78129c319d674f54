import { describe, expect, it } from 'vitest';
import { ATTACK, CHAT, MOVE, SEED_SCENARIO, Scheduler, ScenarioError, turnsOf } from '../../../client/loadtest/scheduler.ts';

function recorder(slotMs = 10) {
  const calls: { bot: number; at: number; actions: number }[] = [];
  let now = 0;
  const s = new Scheduler<number>({
    scenario: SEED_SCENARIO,
    slotMs,
    act: (bot, actions) => calls.push({ bot, at: now, actions }),
  });
  s.reset(0);
  return {
    s,
    calls,
    runTo(t: number, step = slotMs) {
      for (; now <= t; now += step) s.advance(now);
    },
  };
}

describe('scenario', () => {
  it('seed scenario is a chat every 50 moves and an attack every 20', () => {
    expect(turnsOf(SEED_SCENARIO)).toEqual({ chatEvery: 50, attackEvery: 20 });
  });

  it('rejects periods that are not whole multiples of the move period', () => {
    expect(() => turnsOf({ moveMs: 100, chatMs: 5050, attackMs: 2000 })).toThrow(ScenarioError);
    expect(() => turnsOf({ moveMs: 0, chatMs: 5000, attackMs: 2000 })).toThrow(/moveMs/);
    expect(() => new Scheduler({ scenario: SEED_SCENARIO, slotMs: 30, act() {} })).toThrow(/slotMs/);
  });
});

describe('scheduler', () => {
  it('gives every bot one move per period and the seed rates of chat and attack', () => {
    const r = recorder();
    for (let b = 0; b < 1000; b++) r.s.add(b);
    r.runTo(10_000 - 1); // 10 s = 100 periods
    const per = new Map<number, { m: number; c: number; a: number }>();
    for (const c of r.calls) {
      const p = per.get(c.bot) ?? { m: 0, c: 0, a: 0 };
      if (c.actions & MOVE) p.m++;
      if (c.actions & CHAT) p.c++;
      if (c.actions & ATTACK) p.a++;
      per.set(c.bot, p);
    }
    expect(per.size).toBe(1000);
    for (const p of per.values()) expect(p).toEqual({ m: 100, c: 2, a: 5 });
  });

  it('spreads bots evenly over the move period instead of bursting', () => {
    const r = recorder();
    for (let b = 0; b < 1000; b++) r.s.add(b);
    r.runTo(99);
    const perSlot = new Map<number, number>();
    for (const c of r.calls) perSlot.set(c.at, (perSlot.get(c.at) ?? 0) + 1);
    expect([...perSlot.values()]).toEqual(Array(10).fill(100));
  });

  it('spreads chats and attacks over time', () => {
    const r = recorder();
    for (let b = 0; b < 5000; b++) r.s.add(b);
    r.runTo(4999);
    const chatsPerPeriod = new Map<number, number>();
    for (const c of r.calls) {
      if (c.actions & CHAT) {
        const period = Math.floor(c.at / 100);
        chatsPerPeriod.set(period, (chatsPerPeriod.get(period) ?? 0) + 1);
      }
    }
    // 5000 bots chatting every 5 s = 100 per 100 ms period, every period.
    expect(chatsPerPeriod.size).toBe(50);
    for (const n of chatsPerPeriod.values()) expect(n).toBe(100);
  });

  it('catches up a late timer without acting twice in one period, and records the lag', () => {
    const r = recorder();
    for (let b = 0; b < 10; b++) r.s.add(b);
    r.s.advance(35); // slots 0..3 run late
    expect(r.calls.map((c) => c.bot)).toEqual([0, 1, 2, 3]);
    expect(r.s.lag.count).toBe(4);
    expect(r.s.lag.max).toBe(35_000); // µs
    r.calls.length = 0;
    r.s.advance(1_000); // 9.6 periods late: only the latest full period runs
    expect(r.calls.length).toBe(10);
    expect(new Set(r.calls.map((c) => c.bot)).size).toBe(10);
    expect(r.s.skippedSlots).toBe(101 - 4 - 10);
  });

  it('stops calling a bot once removed, even from inside its own callback', () => {
    const calls: number[] = [];
    const s: Scheduler<number> = new Scheduler<number>({
      scenario: SEED_SCENARIO,
      act: (bot) => {
        calls.push(bot);
        if (bot === 0) s.remove(0);
      },
    });
    s.reset(0);
    for (let b = 0; b < 30; b++) s.add(b); // slot 0 holds 0, 10, 20
    s.advance(0);
    expect(calls.sort((a, b) => a - b)).toEqual([0, 10, 20]);
    s.advance(99); // slots 1..9
    calls.length = 0;
    s.advance(100); // slot 0 again
    expect(calls.sort((a, b) => a - b)).toEqual([10, 20]);
    expect(s.size).toBe(29);
  });
});
