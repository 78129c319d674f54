/**
 * The embedded default: PostgreSQL compiled to WebAssembly (PGlite) in this process, with the same
 * migrations as the real one. Data lives in MMO_DATA_DIR ("memory://" keeps it in memory).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from './migrations.ts';
import { type SqlDriver, type SqlExecutor, SqlStore } from './sql.ts';

type Client = Pick<PGlite, 'query' | 'exec'>;
const wrap = (db: Client): SqlExecutor => ({
  query: async <R>(sql: string, params?: readonly unknown[]) => {
    const result = await db.query<R>(sql, params as unknown[] | undefined);
    return { rows: result.rows };
  },
  exec: async (sql: string) => {
    await db.exec(sql);
  },
});

/** Opens (creating if needed) the database in `dataDir` and applies pending migrations. */
export async function openPgliteStore(dataDir: string): Promise<SqlStore> {
  const inMemory = dataDir.startsWith('memory://');
  const location = inMemory ? dataDir : resolve(dataDir);
  if (!inMemory) mkdirSync(location, { recursive: true });
  let db: PGlite;
  try {
    db = await PGlite.create(location);
  } catch (error) {
    throw new Error(
      `could not open the embedded database in ${location}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Another process may hold it (only one may open a data directory), or it is damaged: set MMO_DATA_DIR to another directory.',
      { cause: error },
    );
  }
  const driver: SqlDriver = {
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
  await migrate(driver);
  return new SqlStore(driver, inMemory ? 'embedded (in memory)' : `embedded (${location})`);
}
