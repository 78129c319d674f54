/**
 * Cost of the world's hot paths without any network: N players spread over the zones, each moving
 * every 100 ms (applied and acked as the server does), attacking every 2 s and chatting every 5 s,
 * with the tick at MMO_TICK_RATE and snapshots at the patch rate. Measures the time of each tick
 * (simulation + every snapshot written) and of the input handling per second, as CPU time (a
 * shared machine stretches wall time, not CPU time), and encoding only:
 * frames are written into per-player buffers and then dropped, as if sent.
 *
 *   npm run bench:world [-- --players 5000 --zones 4 --seconds 20 --tick 20 --patch 20 --chat say|zone|none
 *                          --send-profile action|mmo]
 *
 * Chat is `say` by default, like the load generator's bots; `zone` lines beyond the zone's chat
 * budget are refused, as the server does.
 *
 * Bounded: `seconds` of simulated time (default 20). Prints a table and writes
 * bench-results/world.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/root.ts';
import { FrameWriter } from '../../protocol/codec.ts';
import type { Character } from '../../server/src/store/store.ts';
import { Traffic } from '../../server/src/world/traffic.ts';
import type { Player, PlayerSink } from '../../server/src/world/player.ts';
import { World } from '../../server/src/world/world.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const PLAYERS = arg('players', 5000);
const ZONES = arg('zones', 4);
const SECONDS = Math.min(arg('seconds', 20), 120);
const TICK = arg('tick', 20);
const PATCH = arg('patch', 20);
const SIZE = arg('size', 1000);
const RADIUS = arg('radius', 150);
const CHAT = process.argv.includes('--chat') ? process.argv[process.argv.indexOf('--chat') + 1] : 'say';
if (CHAT !== 'say' && CHAT !== 'zone' && CHAT !== 'none') throw new Error(`--chat: expected say, zone or none, got ${CHAT}`);
const PROFILE = process.argv.includes('--send-profile') ? process.argv[process.argv.indexOf('--send-profile') + 1] : 'action';
if (PROFILE !== 'action' && PROFILE !== 'mmo') throw new Error(`--send-profile: expected action or mmo, got ${PROFILE}`);

let seed = 42;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

let bytesOut = 0;
let frames = 0;
class Sink implements PlayerSink {
  out = new FrameWriter(512);
  transport = 0;
  dirty = false;
  /** The mmo profile: what the world writes waits for the player's frame. */
  readonly held = PROFILE === 'mmo';
  markDirty(): void {
    if (!this.held) this.dirty = true;
  }
  frameDue(): void {
    this.dirty = true;
  }
  congested(): boolean {
    return false;
  }
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    bytesOut += this.out.length;
    frames++;
    this.out.reset();
  }
}

const traffic = new Traffic();
const world = new World(
  { zoneCount: ZONES, zoneSize: SIZE, zones: Array.from({ length: ZONES }, (_, i) => i), interestRadius: RADIUS, tickRate: TICK, patchRate: PATCH, maxPlayers: PLAYERS, sendProfile: PROFILE },
  { traffic, publishGlobal: () => {}, rng: rand },
);
const players: Array<{ p: Player; sink: Sink; nextMove: number; nextAttack: number; nextChat: number; seq: number }> = [];
for (let i = 0; i < PLAYERS; i++) {
  const sink = new Sink();
  const c: Character = {
    id: `c${i}`, accountId: `a${i}`, name: `bot-${i}`, zone: i % ZONES, x: rand() * SIZE, y: rand() * SIZE, hp: 100, level: 1, xp: 0, inventory: [], version: 0,
  };
  const r = world.addPlayer(c, sink);
  if (!r.ok) throw new Error(r.code);
  players.push({ p: r.player, sink, nextMove: rand() * 100, nextAttack: rand() * 2000, nextChat: rand() * 5000, seq: 0 });
}

// CPU time, not wall time: on a shared machine other processes stretch wall time, not CPU time.
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const interval = 1000 / TICK;
const tickMs: number[] = [];
let inputMs = 0;
const simulated = SECONDS * 1000;
const wallStart = performance.now();
for (let t = 0; t < simulated; t += interval) {
  // Inputs due during this tick interval, handled as they would arrive between ticks.
  const i0 = cpuMs();
  for (const b of players) {
    while (b.nextMove < t + interval) {
      b.nextMove += 100;
      const p = b.p;
      world.move(p, ++b.seq, Math.min(SIZE, Math.max(0, p.x + (rand() - 0.5) * 30)), Math.min(SIZE, Math.max(0, p.y + (rand() - 0.5) * 30)), b.nextMove);
    }
    while (b.nextAttack < t + interval) {
      b.nextAttack += 2000;
      const target = players[Math.floor(rand() * players.length)]!.p;
      world.attack(b.p, target.id, rand() < 0.5 ? 'strike' : 'bolt');
    }
    while (b.nextChat < t + interval) {
      b.nextChat += 5000;
      if (CHAT !== 'none') world.chat(b.p, CHAT, 'hello from a bot');
    }
  }
  const i1 = cpuMs();
  inputMs += i1 - i0;
  world.step(interval);
  const i2 = cpuMs();
  tickMs.push(i2 - i1);
  for (const b of players) b.sink.flush();
}
const wall = performance.now() - wallStart;

tickMs.sort((a, b) => a - b);
const pct = (q: number): number => tickMs[Math.min(tickMs.length - 1, Math.floor(q * tickMs.length))]!;
const result = {
  players: PLAYERS, zones: ZONES, zoneSize: SIZE, interestRadius: RADIUS, tickRate: TICK, patchRate: PATCH, sendProfile: PROFILE, chat: CHAT, simulatedSeconds: SECONDS,
  tickMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), max: tickMs.at(-1)! },
  inputsCpuPerSecondMs: inputMs / SECONDS,
  ticksCpuPerSecondMs: tickMs.reduce((a, b) => a + b, 0) / SECONDS,
  framesPerSecond: frames / SECONDS,
  kibOutPerSecond: bytesOut / 1024 / SECONDS,
  messagesPerSecond: Object.fromEntries(traffic.rows('out').filter((r) => r.count > 0).map((r) => [r.type, r.count / SECONDS])),
  wallSeconds: wall / 1000,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
};
const f = (n: number): string => n.toFixed(2);
console.log(`world: ${PLAYERS} players in ${ZONES} zones of ${SIZE}² (radius ${RADIUS}), tick ${TICK} Hz, patch ${PATCH} Hz, send profile ${PROFILE}, chat ${CHAT}, ${SECONDS} s simulated`);
console.log(`tick CPU (simulate + snapshots)    p50 ${f(result.tickMs.p50)}  p95 ${f(result.tickMs.p95)}  p99 ${f(result.tickMs.p99)}  max ${f(result.tickMs.max)} ms`);
console.log(`CPU per simulated second           ticks ${f(result.ticksCpuPerSecondMs)} ms, inputs (move/attack/chat) ${f(result.inputsCpuPerSecondMs)} ms`);
console.log(`output                             ${f(result.framesPerSecond)} frames/s, ${f(result.kibOutPerSecond)} KiB/s`);
console.log(`messages/s                         ${Object.entries(result.messagesPerSecond).map(([t, n]) => `${t} ${Math.round(n)}`).join(', ')}`);
const dir = join(PROJECT_ROOT, 'bench-results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'world.json'), `${JSON.stringify(result, null, 2)}\n`);
