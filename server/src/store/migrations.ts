/**
 * Applies server/migrations/*.sql in file-name order, each once and in its own transaction.
 * Safe when several processes run it at once (a PostgreSQL advisory lock serialises them; the
 * others then find nothing left to do) and idempotent (applied names are recorded with a checksum;
 * a shipped migration that was edited is refused rather than half re-applied).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlDriver } from './sql.ts';

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Key of the advisory lock every migrator takes ("mmo" + "migr" as ASCII). */
const LOCK_KEY = 0x6d6d6f6d69677200n;

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  /** Names applied by this run, in order (empty when the schema was current). */
  readonly applied: readonly string[];
  /** Every migration name the schema now has. */
  readonly current: readonly string[];
}

/** The migrations shipped with this version, sorted by name. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Thrown when the recorded schema does not match this version's migrations. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name       text PRIMARY KEY,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Brings the schema up to date. `db` must hold one connection for the whole call (the advisory
 * lock belongs to a session): pass a single pg Client or a PGlite.
 */
export async function migrate(db: SqlDriver, migrations = loadMigrations()): Promise<MigrationResult> {
  await db.query('SELECT pg_advisory_lock($1)', [LOCK_KEY.toString()]);
  try {
    await db.exec(CREATE_TABLE);
    const { rows } = await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    checkHistory(done, migrations);
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await db.transaction(async (tx) => {
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
      });
      applied.push(m.name);
    }
    return { applied, current: migrations.map((m) => m.name) };
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY.toString()]);
  }
}

/** Resolves when every shipped migration is applied; rejects with what is missing otherwise. */
export async function verifySchema(db: SqlDriver, migrations = loadMigrations()): Promise<void> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  const done = new Map<string, string>();
  if (exists.rows[0]?.t) {
    const { rows } = await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations');
    for (const r of rows) done.set(r.name, r.checksum);
  }
  checkHistory(done, migrations);
  const missing = migrations.filter((m) => !done.has(m.name)).map((m) => m.name);
  if (missing.length > 0) {
    throw new MigrationError(`the database schema is behind this server: missing ${missing.join(', ')}; run \`npm run migrate\` (the chart's migration Job runs it on install and upgrade)`);
  }
}

function checkHistory(done: Map<string, string>, migrations: readonly Migration[]): void {
  for (const m of migrations) {
    const recorded = done.get(m.name);
    if (recorded !== undefined && recorded !== m.checksum) {
      throw new MigrationError(`migration ${m.name} was changed after it was applied (checksum differs); add a new migration instead of editing a shipped one`);
    }
  }
  // Names the database has but this version lacks: a newer version migrated it. Old code keeps
  // working against additive migrations, so that is allowed (rollbacks after an upgrade need it).
}
