// The chart's backup and restore scripts (charts/mmo/files), run as the backup CronJob and the Job of
// `mmoctl restore --from` run them — `sh <script>` with the same environment — against the suite's
// real PostgreSQL, with the real pg_dump and pg_restore. What the cluster adds around them (the
// CronJob, the volume, the Job mmoctl creates) is proven by the chart and cluster suites.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import { migratePostgres, openPostgresStore } from '../../server/src/store/postgres.ts';
import { createDatabase } from './helpers.ts';

const FILES = join(PROJECT_ROOT, 'charts', 'mmo', 'files');
const PREFIX = 'game-mmo';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `sh <script>` with only the variables the chart's container sets (and PATH for pg_dump). */
function run(script: 'backup.sh' | 'restore.sh', env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile('sh', [join(FILES, script)], { env: { PATH: process.env.PATH, HOME: tmpdir(), BACKUP_PREFIX: PREFIX, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let db: { url: string; drop: () => Promise<void> };
let dir = '';
let client: pg.Client;

const dumps = async () => (await readdir(dir)).filter((f) => f.endsWith('.dump')).sort();
const characters = async () => (await client.query<{ name: string; zone: number; x: number; items: string | null }>(`SELECT c.name, c.zone, c.x, string_agg(i.item_id || ':' || i.quantity, ',' ORDER BY i.item_id) AS items FROM characters c LEFT JOIN inventory_items i ON i.character_id = c.id GROUP BY c.id ORDER BY c.name`)).rows;

beforeAll(async () => {
  db = await createDatabase();
  await migratePostgres(db.url);
  const store = await openPostgresStore(db.url);
  try {
    for (const [name, x] of [['ayla', 10], ['brann', 20]] as const) {
      const account = await store.createAccount(name, null);
      const character = await store.loadOrCreateCharacter(account.id, { name, zone: 1, x, y: 5, hp: 100, level: 3, xp: 250 });
      await store.grantItem(character.id, 'potion', name === 'brann' ? 3 : 1);
    }
  } finally {
    await store.close();
  }
  client = new pg.Client(db.url);
  await client.connect();
  dir = await mkdtemp(join(tmpdir(), 'mmo-backups-'));
}, 60_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('backup and restore of the game database', () => {
  it('dumps; a character deleted afterwards comes back with its inventory once the dump is restored', async () => {
    const before = await characters();
    expect(before.map((c) => c.name)).toEqual(['ayla', 'brann']);

    const dumped = await run('backup.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, BACKUP_NAME: `${PREFIX}-before`, BACKUP_RETENTION: '7' });
    expect(dumped.stderr).toBe('');
    expect(dumped.code).toBe(0);
    expect(dumped.stdout).toMatch(new RegExp(`^backup: wrote ${dir}/${PREFIX}-before\\.dump \\(\\d+ bytes\\)$`, 'm'));
    expect(await dumps()).toEqual([`${PREFIX}-before.dump`]);

    // After the dump: a player deletes a character, another moves.
    await client.query(`DELETE FROM accounts WHERE username = 'brann'`);
    await client.query(`UPDATE characters SET x = 99 WHERE name = 'ayla'`);
    expect((await characters()).map((c) => c.name)).toEqual(['ayla']);

    const restored = await run('restore.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, RESTORE_FROM: `${PREFIX}-before` });
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`restore: restored ${dir}/${PREFIX}-before.dump`);
    // Everything as it was at the dump: the deleted character and its potions back, the move gone.
    expect(await characters()).toEqual(before);
    // The schema the server checks at start (migration checksums included) survived the round trip.
    const store = await openPostgresStore(db.url, { verify: true });
    await store.close();
  });

  it('keeps only the newest dumps, as many as BACKUP_RETENTION says, and restores "latest"', async () => {
    for (const n of [1, 2, 3]) {
      await client.query(`UPDATE characters SET zone = $1 WHERE name = 'ayla'`, [n]);
      const res = await run('backup.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, BACKUP_NAME: `${PREFIX}-run${n}`, BACKUP_RETENTION: '2' });
      expect(res.code, res.stderr).toBe(0);
      // Modification times order the dumps; keep them apart.
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await dumps()).toEqual([`${PREFIX}-run2.dump`, `${PREFIX}-run3.dump`]);
    await client.query(`UPDATE characters SET zone = 0 WHERE name = 'ayla'`);
    const res = await run('restore.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, RESTORE_FROM: 'latest' });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`${PREFIX}-run3.dump`);
    expect((await characters()).find((c) => c.name === 'ayla')?.zone).toBe(3);
  });

  it('names its dumps after the time when not told otherwise', async () => {
    const res = await run('backup.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, BACKUP_RETENTION: '10' });
    expect(res.code, res.stderr).toBe(0);
    expect((await dumps()).filter((f) => /^game-mmo-\d{8}T\d{6}Z\.dump$/.test(f))).toHaveLength(1);
  });

  it('refuses a dump that is not on the volume, listing the ones that are, and changes nothing', async () => {
    const before = await characters();
    const res = await run('restore.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, RESTORE_FROM: 'game-mmo-nope' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`restore: no dump ${dir}/game-mmo-nope.dump in ${dir}`);
    expect(res.stderr).toContain(`${PREFIX}-run3.dump`);
    expect(await characters()).toEqual(before);
    const escape = await run('restore.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, RESTORE_FROM: '../etc/passwd' });
    expect(escape.code).toBe(2);
  });

  it('leaves the database as it was when the dump is damaged', async () => {
    const before = await characters();
    await writeFile(join(dir, `${PREFIX}-damaged.dump`), 'PGDMP this is not an archive');
    const res = await run('restore.sh', { DATABASE_URL: db.url, BACKUP_DIR: dir, RESTORE_FROM: `${PREFIX}-damaged.dump` });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/pg_restore/);
    expect(await characters()).toEqual(before);
    await rm(join(dir, `${PREFIX}-damaged.dump`));
  });

  it('leaves no file that looks like a backup when the dump fails', async () => {
    const url = new URL(db.url);
    url.pathname = '/mmo_no_such_database';
    const listed = await dumps();
    const res = await run('backup.sh', { DATABASE_URL: url.toString(), BACKUP_DIR: dir, BACKUP_NAME: `${PREFIX}-failed`, BACKUP_RETENTION: '1' });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('mmo_no_such_database');
    // Nothing new, and retention never ran: the old dumps are all still there.
    expect(await dumps()).toEqual(listed);
  });
});
