/**
 * Save latency of one batch of 1,000 characters (Store.saveCharacters: one transaction), on the
 * embedded PGlite (on disk, as `npm start` uses it) and on a real PostgreSQL (this checkout's own,
 * from scripts/services, with default durability settings: fsync and synchronous_commit on).
 *
 *   npm run bench:store [-- --batch 1000 --rounds 60 --only pglite|postgres]
 *
 * Bounded: `rounds` batches (default 60) after 5 warm-up batches, at most 120 s per backend.
 * Prints a table and writes bench-results/store.json.
 */
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../lib/root.ts';
import { Services } from '../services/services.ts';
import { openPgliteStore } from '../../server/src/store/pglite.ts';
import { migratePostgres, openPostgresStore } from '../../server/src/store/postgres.ts';
import type { CharacterState, Store } from '../../server/src/store/store.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const BATCH = Number(arg('batch', '1000'));
const ROUNDS = Number(arg('rounds', '60'));
const ONLY = arg('only', 'all');
const WARMUP = 5;
const TIME_LIMIT_MS = 120_000;

interface Result {
  backend: string;
  batch: number;
  rounds: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  setupSeconds: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function measure(backend: string, store: Store): Promise<Result> {
  const setupStart = performance.now();
  const characters: CharacterState[] = [];
  const accounts: string[] = [];
  for (let i = 0; i < BATCH; i++) {
    const account = await store.createAccount(`bench_${randomUUID().slice(0, 13)}`, 'x');
    const c = await store.loadOrCreateCharacter(account.id, { name: `b${i}`, zone: i % 4, x: 0, y: 0, hp: 100, level: 1, xp: 0 });
    accounts.push(account.id);
    characters.push({ id: c.id, zone: c.zone, x: c.x, y: c.y, hp: c.hp, level: c.level, xp: c.xp, version: c.version });
  }
  const setupSeconds = (performance.now() - setupStart) / 1000;
  const times: number[] = [];
  let lastVersion = 0;
  const deadline = Date.now() + TIME_LIMIT_MS;
  for (let round = 0; round < WARMUP + ROUNDS && Date.now() < deadline; round++) {
    // Every character moved since the last save, as in a busy world.
    const batch = characters.map((c, i) => ({ ...c, x: (round * 7 + i) % 1000, y: (round * 13 + i) % 1000, hp: 50 + (round % 50), xp: round * 10, version: c.version + round + 1 }));
    lastVersion = batch[BATCH - 1]!.version;
    const start = performance.now();
    await store.saveCharacters(batch);
    const ms = performance.now() - start;
    if (round >= WARMUP) times.push(ms);
  }
  // Check the last batch really landed (a benchmark of a no-op would be worthless).
  const saved = await store.loadOrCreateCharacter(accounts[BATCH - 1]!, { name: '', zone: 0, x: 0, y: 0, hp: 0, level: 0, xp: 0 });
  if (saved.version !== lastVersion) throw new Error(`${backend}: the last batch did not land (version ${saved.version}, expected ${lastVersion})`);
  times.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    backend,
    batch: BATCH,
    rounds: times.length,
    p50: round(quantile(times, 0.5)),
    p95: round(quantile(times, 0.95)),
    p99: round(quantile(times, 0.99)),
    max: round(times.at(-1)!),
    mean: round(times.reduce((a, b) => a + b, 0) / times.length),
    setupSeconds: round(setupSeconds),
  };
}

const results: Result[] = [];
if (ONLY === 'all' || ONLY === 'pglite') {
  const dir = join(PROJECT_ROOT, '.tmp', `bench-pglite-${process.pid}`);
  const store = await openPgliteStore(dir);
  try {
    results.push(await measure('PGlite (embedded, on disk)', store));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (ONLY === 'all' || ONLY === 'postgres') {
  const services = new Services();
  const wasUp = (await services.status().catch(() => undefined))?.postgres ?? false;
  const admin = (await services.up()).DATABASE_URL;
  const name = `mmo_bench_${process.pid}`;
  const client = new pg.Client(admin);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  try {
    await migratePostgres(url.toString());
    const store = await openPostgresStore(url.toString(), { verify: true });
    try {
      results.push(await measure('PostgreSQL 15 (local, loopback)', store));
    } finally {
      await store.close();
    }
  } finally {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
    if (!wasUp) await services.down();
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(`saveCharacters, batch of ${BATCH} (${machine})`);
console.log('| backend | rounds | p50 ms | p95 ms | p99 ms | max ms | mean ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) console.log(`| ${r.backend} | ${r.rounds} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.max} | ${r.mean} |`);
mkdirSync(join(PROJECT_ROOT, 'bench-results'), { recursive: true });
writeFileSync(join(PROJECT_ROOT, 'bench-results', 'store.json'), `${JSON.stringify({ machine, date: new Date().toISOString(), results }, null, 2)}\n`);
