import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../server/src/bus/bus.ts';
import { FrameWriter, decodeServerFrame, readSnapshotEntity, type ServerMessage, type SnapshotEntity } from '../../protocol/codec.ts';
import type { Character } from '../../server/src/store/store.ts';
import { TokenBucket } from '../../server/src/limits/token-bucket.ts';
import { InterestGrid, SlotTable } from '../../server/src/world/grid.ts';
import { MAX_HP, PLAYER_SPEED, RESPAWN_MS, SKILL_RULES, checkAttack, clampMove, levelFor } from '../../server/src/world/rules.ts';
import { Ticker } from '../../server/src/world/tick.ts';
import { Traffic } from '../../server/src/world/traffic.ts';
import { GLOBAL_CHAT_BUDGET, ZONE_CHAT_BUDGET } from '../../server/src/world/chat.ts';
import type { PlayerSink } from '../../server/src/world/player.ts';
import { PHASE_MARGIN, PHASE_SWITCH_AFTER, TOWN_CAPACITY, World } from '../../server/src/world/world.ts';

describe('interest grid', () => {
  const brute = (pts: Array<[number, number]>, x: number, y: number, r: number): number[] =>
    pts.flatMap(([px, py], i) => ((px - x) ** 2 + (py - y) ** 2 <= r * r ? [i] : []));

  it('finds exactly the entities within the radius, after inserts, moves and removals', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const slots = new SlotTable(500);
    const grid = new InterestGrid(1000, 150, slots);
    const pts: Array<[number, number]> = [];
    for (let i = 0; i < 500; i++) {
      pts.push([rand() * 1000, rand() * 1000]);
      grid.insert(i, pts[i]![0], pts[i]![1]);
    }
    for (let i = 0; i < 200; i++) {
      const s = Math.floor(rand() * 500);
      pts[s] = [rand() * 1000, rand() * 1000];
      grid.move(s, pts[s]![0], pts[s]![1]);
    }
    const removed = new Set([3, 99, 250]);
    for (const s of removed) grid.remove(s);
    expect(grid.population).toBe(497);
    const out = new Int32Array(500);
    for (let q = 0; q < 50; q++) {
      const x = rand() * 1000;
      const y = rand() * 1000;
      const n = grid.query(x, y, 150, out);
      const got = [...out.subarray(0, n)].sort((a, b) => a - b);
      expect(got).toEqual(brute(pts, x, y, 150).filter((i) => !removed.has(i)));
    }
  });

  it('lists every entity\'s neighbours (itself first) exactly as a brute-force check does', () => {
    let seed = 99;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const slots = new SlotTable(400);
    const grid = new InterestGrid(1000, 150, slots);
    const pts: Array<[number, number]> = [];
    for (let i = 0; i < 400; i++) {
      pts.push([rand() * 1000, rand() * 1000]);
      grid.insert(i, pts[i]![0], pts[i]![1]);
    }
    const max = 400;
    const lists = new Int32Array(400 * max);
    const counts = new Int32Array(400);
    grid.collectVisible(150, max, lists, counts);
    for (let a = 0; a < 400; a++) {
      const got = [...lists.subarray(a * max, a * max + counts[a]!)];
      expect(got[0]).toBe(a);
      expect(got.sort((x, y) => x - y)).toEqual(brute(pts, pts[a]![0], pts[a]![1], 150));
    }
  });

  it('stops at the capacity of the output buffer', () => {
    const slots = new SlotTable(10);
    const grid = new InterestGrid(100, 50, slots);
    for (let i = 0; i < 10; i++) grid.insert(i, 50, 50);
    expect(grid.query(50, 50, 10, new Int32Array(4))).toBe(4);
  });

  it('keeps memory bounded for huge zones by growing the cell', () => {
    const grid = new InterestGrid(100000, 16, new SlotTable(1));
    expect(grid.side).toBeLessThanOrEqual(128);
    expect(grid.cellSize).toBeGreaterThanOrEqual(16);
  });
});

describe('rate limiter', () => {
  it('allows a burst, then the sustained rate', () => {
    const b = new TokenBucket(5, 2, 0);
    expect([1, 2, 3, 4, 5, 6].map(() => b.take(0))).toEqual([true, true, true, true, true, false]);
    expect(b.take(400)).toBe(false); // 0.8 tokens
    expect(b.take(500)).toBe(true); // 1 token after 500 ms at 2/s
    expect(b.take(500)).toBe(false);
  });

  it('never holds more than its capacity after a long pause', () => {
    const b = new TokenBucket(3, 100, 0);
    let n = 0;
    while (b.take(60_000)) n++;
    expect(n).toBe(3);
  });

  it('ignores a clock that goes backwards', () => {
    const b = new TokenBucket(1, 1, 1000);
    expect(b.take(1000)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(2000)).toBe(true);
  });
});

describe('movement clamp', () => {
  const out = { x: 0, y: 0, travelled: 0 };
  it.each([
    ['a short step inside the budget', [10, 10, 13, 14, 100, 1000], [13, 14, 5]],
    ['a long step cut to the budget along its direction', [0, 0, 300, 400, 50, 1000], [30, 40, 50]],
    ['a step past the zone edge', [990, 10, 2000, 10, 100, 1000], [1000, 10, 10]],
    ['a step below zero', [5, 5, -50, 5, 100, 1000], [0, 5, 5]],
    ['any step with no budget left', [5, 5, 50, 50, 0, 1000], [5, 5, 0]],
  ] as const)('handles %s', (_name, [x, y, tx, ty, budget, size], [ex, ey, travelled]) => {
    const r = clampMove(x, y, tx, ty, budget, size, out);
    expect(r.x).toBeCloseTo(ex, 9);
    expect(r.y).toBeCloseTo(ey, 9);
    expect(r.travelled).toBeCloseTo(travelled, 9);
  });
});

describe('combat rules', () => {
  const a = { id: 1, zone: 0, x: 100, y: 100, dead: false };
  const near = { id: 2, zone: 0, x: 100 + SKILL_RULES.strike.range, y: 100, dead: false };
  it.each([
    ['lands in range and off cooldown', a, near, 'strike', 0, 10, undefined],
    ['refuses while cooling down', a, near, 'strike', 11, 10, 'cooldown'],
    ['refuses a target just out of range', a, { ...near, x: near.x + 0.01 }, 'strike', 0, 10, 'invalid_target'],
    ['reaches further with bolt', a, { ...near, x: 100 + SKILL_RULES.bolt.range }, 'bolt', 0, 10, undefined],
    ['refuses yourself', a, a, 'strike', 0, 10, 'invalid_target'],
    ['refuses a dead target', a, { ...near, dead: true }, 'strike', 0, 10, 'invalid_target'],
    ['refuses a target in another zone', a, { ...near, zone: 1 }, 'strike', 0, 10, 'invalid_target'],
    ['refuses an unknown target', a, undefined, 'strike', 0, 10, 'invalid_target'],
    ['refuses a dead attacker', { ...a, dead: true }, near, 'strike', 0, 10, 'dead'],
  ] as const)('%s', (_n, attacker, target, skill, readyAt, now, expected) => {
    expect(checkAttack(attacker, target, skill, readyAt, now)).toBe(expected);
  });

  it('levels up every 100 XP', () => {
    expect([0, 99, 100, 250].map(levelFor)).toEqual([1, 1, 2, 3]);
  });
});

describe('ticker', () => {
  function fakeTimers() {
    let t = 0;
    const timers: Array<{ at: number; fn: () => void }> = [];
    return {
      now: () => t,
      setTimer: (fn: () => void, ms: number) => {
        const h = { at: t + ms, fn };
        timers.push(h);
        return h;
      },
      clearTimer: (h: unknown) => timers.splice(timers.indexOf(h as never), 1),
      advance(ms: number, costPerStep = 0, onStep?: () => void) {
        const end = t + ms;
        for (;;) {
          timers.sort((x, y) => x.at - y.at);
          const next = timers[0];
          if (!next || next.at > end) break;
          timers.shift();
          t = Math.max(t, next.at);
          next.fn();
        }
        t = end;
        void costPerStep;
        void onStep;
      },
      spend(ms: number) {
        t += ms;
      },
    };
  }

  it('steps at the fixed rate with the fixed elapsed time', () => {
    const clock = fakeTimers();
    const steps: number[] = [];
    const ticker = new Ticker({ intervalMs: 50, step: (dt) => steps.push(dt), now: clock.now, setTimer: clock.setTimer, clearTimer: clock.clearTimer });
    ticker.start();
    clock.advance(1000);
    expect(steps.length).toBe(20);
    expect(new Set(steps)).toEqual(new Set([50]));
    ticker.stop();
    clock.advance(1000);
    expect(steps.length).toBe(20);
  });

  it('reports how long each step took', () => {
    const clock = fakeTimers();
    const durations: number[] = [];
    const ticker = new Ticker({
      intervalMs: 50, step: () => clock.spend(7), now: clock.now, onTick: (d) => durations.push(d), setTimer: clock.setTimer, clearTimer: clock.clearTimer,
    });
    ticker.start();
    clock.advance(200);
    expect(durations.length).toBeGreaterThan(2);
    expect(new Set(durations)).toEqual(new Set([7]));
    ticker.stop();
  });

  it('catches up a few ticks after a stall and drops the rest instead of fast-forwarding', () => {
    const clock = fakeTimers();
    let steps = 0;
    const ticker = new Ticker({ intervalMs: 50, step: () => steps++, now: clock.now, maxCatchUp: 4, setTimer: clock.setTimer, clearTimer: clock.clearTimer });
    ticker.start();
    clock.spend(1000); // the event loop was blocked for a second
    ticker.runDue();
    expect(steps).toBe(4);
    expect(ticker.dropped).toBe(16); // 20 were due: 4 ran, 16 skipped
    ticker.stop();
  });
});

// ---------------------------------------------------------------------------------------------

class TestSink implements PlayerSink {
  readonly out = new FrameWriter();
  readonly transport = 0;
  dirty = 0;
  /** Frames the world asked for (the mmo send profile). */
  frames = 0;
  jammed = false;
  markDirty(): void {
    this.dirty++;
  }
  frameDue(): void {
    this.frames++;
  }
  congested(): boolean {
    return this.jammed;
  }
  /** Decodes and clears what the world wrote. */
  take(): ServerMessage[] {
    if (this.out.length === 0) return [];
    const r = decodeServerFrame(this.out.copy());
    this.out.reset();
    if (!Array.isArray(r)) throw new Error(r.detail);
    return r;
  }
}

function character(id: string, x: number, y: number, zone = 0): Character {
  return { id, accountId: `acc-${id}`, name: `hero-${id}`, zone, x, y, hp: MAX_HP, level: 1, xp: 0, inventory: [], version: 0 };
}

function makeWorld(overrides: Partial<ConstructorParameters<typeof World>[0]> = {}) {
  const published: BusMessage[] = [];
  const world = new World(
    { zoneCount: 2, zoneSize: 1000, zones: [0, 1], interestRadius: 150, tickRate: 20, patchRate: 10, maxPlayers: 10, ...overrides },
    { traffic: new Traffic(), publishGlobal: (m) => published.push(m), rng: () => 0.5 },
  );
  const add = (c: Character) => {
    const sink = new TestSink();
    const r = world.addPlayer(c, sink);
    if (!r.ok) throw new Error(r.code);
    return { p: r.player, sink };
  };
  return { world, add, published };
}

function entities(m: ServerMessage): SnapshotEntity[] {
  if (m.type !== 'snapshot') throw new Error(`expected snapshot, got ${m.type}`);
  return Array.from({ length: m.count }, (_, i) => ({ ...readSnapshotEntity(m, i, { id: 0, x: 0, y: 0, hp: 0, flags: 0 }) }));
}

describe('world', () => {
  it('sends each player only the entities within its interest radius, and names newcomers once', () => {
    const { world, add } = makeWorld();
    const a = add(character('a', 100, 100));
    const b = add(character('b', 200, 100)); // 100 away: visible
    const c = add(character('c', 600, 600)); // far away
    world.step(50);
    expect(world.step(50)).toBe(true); // patch rate 10 Hz = every second 20 Hz tick
    const msgs = a.sink.take();
    expect(msgs.filter((m) => m.type === 'appear').map((m) => m.type === 'appear' && m.name).sort()).toEqual(['hero-a', 'hero-b']);
    const seen = entities(msgs.find((m) => m.type === 'snapshot')!);
    expect(seen.map((e) => e.id).sort()).toEqual([a.p.id, b.p.id].sort());
    expect(seen.find((e) => e.id === a.p.id)!.flags & 2).toBe(2); // self flag
    expect(entities(c.sink.take().find((m) => m.type === 'snapshot')!).map((e) => e.id)).toEqual([c.p.id]);
    world.step(50);
    world.step(50);
    expect(a.sink.take().map((m) => m.type)).toEqual(['snapshot']); // no repeated appear
  });

  it('announces an entity again when its slot is reused by someone else', () => {
    const { world, add } = makeWorld({ patchRate: 20 });
    const a = add(character('a', 100, 100));
    const b = add(character('b', 110, 100));
    world.step(50);
    expect(a.sink.take().filter((m) => m.type === 'appear')).toHaveLength(2);
    world.removePlayer(b.p);
    const c = add(character('c', 120, 100)); // takes b's slot
    expect(c.p.slot).toBe(b.p.slot);
    world.step(50);
    expect(a.sink.take().filter((m) => m.type === 'appear').map((m) => m.type === 'appear' && m.name)).toEqual(['hero-c']);
  });

  it('clamps moves to the speed budget and the zone, and acknowledges with the result', () => {
    const { world, add } = makeWorld();
    const a = add(character('a', 500, 500));
    world.move(a.p, 1, 900, 500, 12.5);
    const [ack] = a.sink.take();
    expect(ack).toMatchObject({ type: 'ack', seq: 1, clientTime: 12.5, y: 500 });
    expect(ack!.type === 'ack' && ack.x).toBeCloseTo(500 + PLAYER_SPEED * 0.5, 3); // the banked budget
    world.move(a.p, 2, 900, 500, 13);
    expect(a.sink.take()[0]).toMatchObject({ type: 'ack', seq: 2, x: 600 }); // budget spent: no progress
    world.step(100); // 100 ms refill = 20 units
    a.sink.take(); // the snapshot
    world.move(a.p, 3, 900, 500, 14);
    expect(a.sink.take()).toEqual([{ type: 'ack', seq: 3, x: 620, y: 500, clientTime: 14 }]);
  });

  it('resolves attacks with cooldowns, kills at 0 HP, awards XP and respawns after the delay', () => {
    const { world, add } = makeWorld();
    const a = add(character('a', 100, 100));
    const b = add(character('b', 130, 100));
    expect(world.attack(a.p, b.p.id, 'strike')).toBeUndefined();
    expect(world.attack(a.p, b.p.id, 'strike')).toBe('cooldown');
    expect(b.sink.take()).toEqual([
      { type: 'combat', kind: 'hit', attacker: a.p.id, target: b.p.id, skill: 'strike', damage: 12, hp: 88, x: 130, y: 100 },
    ]);
    let hp = 88;
    while (hp > 0) {
      world.step(SKILL_RULES.strike.cooldownMs);
      expect(world.attack(a.p, b.p.id, 'strike')).toBeUndefined();
      hp = Math.max(0, hp - 12);
    }
    expect(b.p.dead).toBe(true);
    expect(a.p.xp).toBe(10);
    expect(a.sink.take().filter((m) => m.type === 'combat' && m.kind === 'death')).toHaveLength(1);
    world.step(SKILL_RULES.strike.cooldownMs);
    expect(world.attack(a.p, b.p.id, 'strike')).toBe('invalid_target'); // dead
    expect(world.attack(b.p, a.p.id, 'strike')).toBe('dead');
    for (let t = 0; t < RESPAWN_MS; t += 50) world.step(50);
    expect(b.p.dead).toBe(false);
    expect(b.p.hp).toBe(MAX_HP);
    expect(b.sink.take().some((m) => m.type === 'combat' && m.kind === 'respawn')).toBe(true);
  });

  it('delivers zone chat to the zone only and sends global chat through the bus', () => {
    const { world, add, published } = makeWorld({ patchRate: 1 });
    const a = add(character('a', 100, 100, 0));
    const b = add(character('b', 900, 900, 0));
    const c = add(character('c', 100, 100, 1));
    world.chat(a.p, 'zone', 'hello zone');
    expect(b.sink.take()).toEqual([]); // delivered with the next tick
    world.step(1);
    expect(b.sink.take()).toEqual([{ type: 'chat', channel: 'zone', fromId: a.p.id, fromName: 'hero-a', text: 'hello zone' }]);
    expect(c.sink.take()).toEqual([]);
    world.chat(a.p, 'global', 'hello all');
    expect(published).toEqual([{ kind: 'chat', from: 'a', fromName: 'hero-a', text: 'hello all', sentAt: 1 }]);
    world.receive(published[0]!);
    world.receive({ kind: 'chat', from: 'elsewhere', fromName: 'remote', text: 'hi', sentAt: 0 });
    world.step(1);
    a.sink.take();
    expect(c.sink.take()).toEqual([
      { type: 'chat', channel: 'global', fromId: a.p.id, fromName: 'hero-a', text: 'hello all' },
      { type: 'chat', channel: 'global', fromId: 0, fromName: 'remote', text: 'hi' },
    ]);
  });

  it('delivers say to the players within the interest radius of where it was said', () => {
    const { world, add } = makeWorld();
    const a = add(character('a', 100, 100, 0));
    const near = add(character('near', 200, 150, 0)); // 112 units away: in view
    const far = add(character('far', 400, 100, 0)); // 300 units away
    const other = add(character('other', 100, 100, 1)); // same spot, other zone
    expect(world.chat(a.p, 'say', 'hello there')).toBeUndefined();
    world.step(1);
    const line = { type: 'chat', channel: 'say', fromId: a.p.id, fromName: 'hero-a', text: 'hello there' };
    const chats = (sink: TestSink) => sink.take().filter((m) => m.type === 'chat');
    expect(chats(a.sink)).toEqual([line]); // the speaker hears itself, as in zone chat
    expect(chats(near.sink)).toEqual([line]);
    expect(chats(far.sink)).toEqual([]);
    expect(chats(other.sink)).toEqual([]);
  });

  it('caps what a zone channel and the global channel carry, whoever speaks', () => {
    const { world, add, published } = makeWorld({ maxPlayers: 40 });
    const speakers = Array.from({ length: 30 }, (_, i) => add(character(`s${i}`, 10 * i, 10, 0)).p);
    const [burst, perSecond] = ZONE_CHAT_BUDGET;
    const refused = speakers.map((p) => world.chat(p, 'zone', 'hi')).filter((r) => r === 'rate_limited');
    expect(refused).toHaveLength(30 - burst);
    world.step(1000); // a second of world time refills the budget
    expect(speakers.map((p) => world.chat(p, 'zone', 'again')).filter((r) => r === undefined)).toHaveLength(perSecond);
    expect(speakers.every((p) => world.chat(p, 'say', 'nearby is not capped') === undefined)).toBe(true);
    const globals = speakers.map((p) => world.chat(p, 'global', 'all'));
    expect(globals.filter((r) => r === undefined)).toHaveLength(GLOBAL_CHAT_BUDGET[0]);
    expect(published).toHaveLength(GLOBAL_CHAT_BUDGET[0]);
  });

  it('moves players between owned zones and refuses others', () => {
    const { world, add } = makeWorld({ zones: [0, 1], zoneCount: 4 });
    const a = add(character('a', 100, 100, 0));
    expect(world.join(a.p, 3)).toBe('zone_unavailable');
    expect(world.join(a.p, 1)).toBeUndefined();
    expect(a.sink.take()).toEqual([{ type: 'joined', zone: 1, zoneSize: 1000, x: 500, y: 500 }]);
    expect(world.zoneCounts().get(1)).toHaveLength(1);
    expect(world.zoneCounts().get(0)).toHaveLength(0);
  });

  it('starts new characters in the town, where all see each other, until it is full', () => {
    let seed = 3;
    const rng = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const world = new World(
      { zoneCount: 4, zoneSize: 1000, zones: [2, 3], interestRadius: 150, tickRate: 20, patchRate: 20, maxPlayers: 100 },
      { traffic: new Traffic(), publishGlobal: () => {}, rng },
    );
    const sinks: TestSink[] = [];
    const spawnAt = () => {
      const s = world.spawnPoint();
      const sink = new TestSink();
      const r = world.addPlayer(character(`c${sinks.length}`, s.x, s.y, s.zone), sink);
      if (!r.ok) throw new Error(r.code);
      sinks.push(sink);
      return s;
    };
    const town = Array.from({ length: TOWN_CAPACITY }, spawnAt);
    for (const s of town) {
      expect(s.zone).toBe(2);
      expect(Math.max(Math.abs(s.x - 500), Math.abs(s.y - 500))).toBeLessThanOrEqual(50);
    }
    world.step(50);
    for (const sink of sinks) {
      const seen = sink.take().filter((m) => m.type === 'snapshot').flatMap(entities);
      expect(new Set(seen.map((e) => e.id)).size).toBe(TOWN_CAPACITY);
    }
    const later = Array.from({ length: 40 }, spawnAt);
    const outside = later.filter((s) => s.zone !== 2 || Math.hypot(s.x - 500, s.y - 500) > 75);
    expect(outside.length).toBeGreaterThan(30);
    expect(new Set(later.map((s) => s.zone))).toEqual(new Set([2, 3]));
  });

  it('places characters from unowned zones at a spawn point and refuses players beyond the limit', () => {
    const { world, add } = makeWorld({ zones: [1], zoneCount: 2, maxPlayers: 1 });
    const a = add(character('a', 5, 5, 0));
    expect([a.p.zone, a.p.x, a.p.y]).toEqual([1, 500, 500]);
    expect(world.addPlayer(character('b', 1, 1, 1), new TestSink())).toEqual({ ok: false, code: 'server_full' });
    world.removePlayer(a.p);
    expect(world.addPlayer(character('b', 1, 1, 1), new TestSink()).ok).toBe(true);
  });

  it('skips snapshots for congested connections instead of queueing them', () => {
    const { world, add } = makeWorld({ patchRate: 20 });
    const a = add(character('a', 100, 100));
    a.sink.jammed = true;
    world.step(50);
    expect(a.sink.take()).toEqual([]);
  });

  it('hands changed characters to the store once per change, with increasing versions', () => {
    const { world, add } = makeWorld();
    const a = add(character('a', 500, 500));
    expect(world.takeChanged()).toEqual([]);
    world.move(a.p, 1, 510, 500, 0);
    const [s1] = world.takeChanged();
    expect(s1).toMatchObject({ id: 'a', x: 510, version: 1 });
    expect(world.takeChanged()).toEqual([]);
    world.move(a.p, 2, 520, 500, 0);
    expect(world.removePlayer(a.p)).toMatchObject({ x: 520, version: 2 });
  });
});

describe('the mmo send profile', () => {
  /** 20 Hz ticks, frames at 10 Hz: every second tick is a player's frame. */
  const mmoWorld = (overrides: Partial<ConstructorParameters<typeof World>[0]> = {}) => makeWorld({ sendProfile: 'mmo', patchRate: 10, ...overrides });
  /** Steps `n` ticks and returns, per tick, whether `sink` got its frame on it. */
  const frameTicks = (world: World, sink: TestSink, n: number): boolean[] =>
    Array.from({ length: n }, () => {
      const before = sink.frames;
      world.step(50);
      return sink.frames > before;
    });

  it('gives each player one frame per interval, with its snapshot and everything answered since', () => {
    const { world, add } = mmoWorld();
    const a = add(character('a', 100, 100));
    add(character('b', 150, 100));
    expect(world.sendEvery).toBe(2);
    expect(world.patchRate).toBe(10);
    const got = frameTicks(world, a.sink, 8);
    expect(got.filter(Boolean)).toHaveLength(4);
    expect(got.findIndex(Boolean) % 2).toBe(got.lastIndexOf(true) % 2); // always the same tick of the two
    a.sink.take();
    // Between frames the acks wait: nothing asks for a send until the player's tick.
    const frames = a.sink.frames;
    world.move(a.p, 1, 101, 100, 5);
    world.move(a.p, 2, 102, 100, 6);
    expect(a.sink.frames).toBe(frames);
    while (a.sink.frames === frames) world.step(50);
    expect(a.sink.take().map((m) => m.type)).toEqual(['ack', 'ack', 'snapshot']);
  });

  it('moves a player\'s frames to just after its regular inputs, never closer together than an interval', () => {
    const { world, add } = mmoWorld();
    const a = add(character('a', 100, 100));
    const frames: number[] = [];
    let tick = 0;
    const step = (): void => {
      const before = a.sink.frames;
      world.step(50);
      tick++;
      if (a.sink.frames > before) frames.push(tick);
    };
    for (let i = 0; i < 4; i++) step();
    // Its moves arrive 20 ms before the ticks it has no frame on.
    const offPhase = (frames.at(-1)! + 1) % 2;
    for (let i = 0; i < 12; i++) {
      if ((tick + 1) % 2 === offPhase) {
        world.move(a.p, i, 100, 100, 0);
        world.followInput(a.p, 20);
      }
      step();
    }
    const after = frames.filter((t) => t > 4 + PHASE_SWITCH_AFTER * 2);
    expect(after.length).toBeGreaterThan(1);
    for (const t of after) expect(t % 2).toBe(offPhase);
    for (let i = 1; i < frames.length; i++) expect(frames[i]! - frames[i - 1]!).toBeGreaterThanOrEqual(2);
  });

  it('answers an input arriving right before a tick with the tick after it, so jitter does not cost an interval', () => {
    const { world, add } = mmoWorld();
    const a = add(character('a', 100, 100));
    for (let i = 0; i < 4; i++) world.step(50);
    const phase = a.p.nextSendTick % 2;
    // Inputs land 1 ms before the ticks of its own phase: late by a hair, they would miss them. The
    // phase moves to the tick after, which every such input makes.
    for (let i = 0; i < PHASE_SWITCH_AFTER; i++) {
      while ((world.tick + 1) % 2 !== phase) world.step(50);
      world.move(a.p, i, 100, 100, 0);
      world.followInput(a.p, 50 * PHASE_MARGIN / 2);
      world.step(50);
    }
    expect(a.p.nextSendTick % 2).toBe((phase + 1) % 2);
  });

  it('rounds the interval up to whole ticks', () => {
    expect(mmoWorld({ patchRate: 15 }).world).toMatchObject({ sendEvery: 2, patchRate: 10 });
    expect(mmoWorld({ patchRate: 20 }).world).toMatchObject({ sendEvery: 1, patchRate: 20 });
    expect(mmoWorld({ patchRate: 3 }).world).toMatchObject({ sendEvery: 7 });
    expect(makeWorld({ patchRate: 10 }).world).toMatchObject({ sendEvery: 0, patchRate: 10 });
  });

  it('still sends what waits for a congested player on its tick, without the snapshot', () => {
    const { world, add } = mmoWorld();
    const a = add(character('a', 100, 100));
    a.sink.jammed = true;
    world.move(a.p, 1, 101, 100, 0);
    const frames = a.sink.frames;
    world.step(50);
    world.step(50);
    expect(a.sink.frames).toBe(frames + 1);
    expect(a.sink.take().map((m) => m.type)).toEqual(['ack']);
  });
});
