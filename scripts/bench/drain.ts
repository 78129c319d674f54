/**
 * Drain and reconnect times: N players play on process A (PostgreSQL, Redis and RabbitMQ from
 * scripts/services, loopback); A gets SIGTERM; they reconnect to process B during the drain. Then
 * A is started again on the same ports and B is drained, and so on for each round.
 *
 *   npm run bench:drain [-- --players 200 --rounds 3 --drain-seconds 20 --play-seconds 5]
 *
 * Reports per round and over all rounds: drain time (SIGTERM → exit), reconnect time (the old
 * connection's close → the new welcome) and notice → welcome (which includes the 0–2 s spread the
 * server asks for, so a fleet does not reconnect in one burst), plus players that landed and any
 * acknowledged state that was not where the next process put the player (must be 0). Bounded: every
 * wait has a deadline. Prints a table and writes bench-results/drain.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../lib/root.ts';
import { Services } from '../services/services.ts';
import { migratePostgres } from '../../server/src/store/postgres.ts';
import { startGameServer, type GameServer } from '../lib/game-server.ts';
import { quantile, Swarm, SwarmBot } from '../lib/swarm.ts';
import { waitFor } from '../lib/wait.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, got ${process.argv[i + 1]}`);
  return v;
};
const PLAYERS = arg('players', 200);
const ROUNDS = arg('rounds', 3);
const DRAIN_SECONDS = arg('drain-seconds', 20);
const PLAY_SECONDS = arg('play-seconds', 5);
const SECRET = 'bench-drain-secret-0123456789-abcdefghijkl';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const services = new Services();
const wasUp = await services.status().catch(() => undefined);
const urls = await services.up();
const dbName = `mmo_bench_drain_${process.pid}`;
const admin = new pg.Client(urls.DATABASE_URL);
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(urls.DATABASE_URL);
dbUrl.pathname = `/${dbName}`;
await migratePostgres(dbUrl.toString());

const env = {
  DATABASE_URL: dbUrl.toString(), REDIS_URL: urls.REDIS_URL, AMQP_URL: urls.AMQP_URL, MMO_AUTH_SECRET: SECRET,
  MMO_DRAIN_SECONDS: String(DRAIN_SECONDS), MMO_UDP_ENABLED: 'false', MMO_MAX_PLAYERS: String(PLAYERS * 2),
};
const load = { before: loadavg().map((l) => Math.round(l * 100) / 100), after: [] as number[] };
interface Round {
  round: number;
  drainMs: number;
  exitCode: number | string;
  landed: number;
  reconnectMs: { p50: number; p95: number; max: number };
  noticeToWelcomeMs: { p50: number; p95: number; max: number };
}
const rounds: Round[] = [];
const allReconnect: number[] = [];
const allNotice: number[] = [];
const servers: GameServer[] = [];
let violations: string[] = [];
try {
  const start = async (id: string, gamePort?: number) => {
    const s = await startGameServer({ env: { ...env, MMO_SERVER_ID: id, ...(gamePort ? { MMO_GAME_PORT: String(gamePort) } : {}) } });
    servers.push(s);
    return s;
  };
  let current = await start('bench-a');
  let other = await start('bench-b');
  const ports = [current.ports.game, other.ports.game];
  const tokens: string[] = [];
  for (let i = 0; i < PLAYERS; i++) tokens.push(await current.token());
  const swarm = new Swarm(tokens.map((t) => new SwarmBot(t)));
  await swarm.start([current.url, other.url], 20, { maxAttempts: 30 });
  swarm.play(250, 8);
  for (let round = 1; round <= ROUNDS; round++) {
    await sleep(PLAY_SECONDS * 1000);
    const before = swarm.bots.map((b) => b.landings.length);
    const signalled = performance.now();
    current.process.kill('SIGTERM');
    const exitCode = await current.exited;
    const drainMs = performance.now() - signalled;
    await waitFor('every player to land on the other process', () => swarm.bots.every((b, i) => b.landings.length > before[i]!), 60_000).catch((e: unknown) => console.error(String(e)));
    const landings = swarm.bots.map((b, i) => b.landings[before[i]!]).filter((l) => l !== undefined);
    const ms = landings.map((l) => l.ms);
    const notice = landings.map((l) => l.sinceNoticeMs ?? Number.NaN).filter((n) => !Number.isNaN(n));
    allReconnect.push(...ms);
    allNotice.push(...notice);
    const stats = (v: number[]) => ({ p50: Math.round(quantile(v, 0.5)), p95: Math.round(quantile(v, 0.95)), max: Math.round(quantile(v, 1)) });
    const target = other.logs.find((x) => x.msg === 'listening')?.serverId;
    rounds.push({ round, drainMs: Math.round(drainMs), exitCode, landed: landings.filter((l) => l.serverId === target).length, reconnectMs: stats(ms), noticeToWelcomeMs: stats(notice) });
    console.log(`round ${round}: drain ${Math.round(drainMs)} ms (exit ${exitCode}), ${rounds.at(-1)!.landed}/${PLAYERS} landed; reconnect p50 ${stats(ms).p50} p95 ${stats(ms).p95} max ${stats(ms).max} ms`);
    // The drained process comes back on its port for the next round.
    const port = ports[round % 2 === 1 ? 0 : 1]!;
    const next = await start(round % 2 === 1 ? `bench-a${round}` : `bench-b${round}`, port);
    current = other;
    other = next;
  }
  swarm.stop();
  violations = swarm.violations();
  for (const b of swarm.bots) b.player?.close();
} finally {
  load.after = loadavg().map((l) => Math.round(l * 100) / 100);
  for (const s of servers) await s.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
  await admin.end();
  if (!wasUp?.postgres || !wasUp.redis || !wasUp.rabbitmq) await services.down();
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const all = (v: number[]) => ({ p50: Math.round(quantile(v, 0.5)), p95: Math.round(quantile(v, 0.95)), max: Math.round(quantile(v, 1)) });
console.log(`\ndrain with ${PLAYERS} players, MMO_DRAIN_SECONDS=${DRAIN_SECONDS} (${machine}; load average ${load.before.join(' ')} → ${load.after.join(' ')})`);
console.log('| round | drain ms | landed | reconnect p50 ms | p95 ms | max ms | notice→welcome p50 ms | p95 ms |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rounds) {
  console.log(`| ${r.round} | ${r.drainMs} | ${r.landed}/${PLAYERS} | ${r.reconnectMs.p50} | ${r.reconnectMs.p95} | ${r.reconnectMs.max} | ${r.noticeToWelcomeMs.p50} | ${r.noticeToWelcomeMs.p95} |`);
}
console.log(`all rounds: reconnect ${JSON.stringify(all(allReconnect))} ms; notice→welcome ${JSON.stringify(all(allNotice))} ms; acknowledged state lost: ${violations.length}`);
mkdirSync(join(PROJECT_ROOT, 'bench-results'), { recursive: true });
writeFileSync(
  join(PROJECT_ROOT, 'bench-results', 'drain.json'),
  `${JSON.stringify({ machine, date: new Date().toISOString(), players: PLAYERS, drainSeconds: DRAIN_SECONDS, load, rounds, all: { reconnectMs: all(allReconnect), noticeToWelcomeMs: all(allNotice) }, violations }, null, 2)}\n`,
);
if (violations.length > 0) {
  console.error(violations.slice(0, 20).join('\n'));
  process.exitCode = 1;
}
