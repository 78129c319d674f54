/** The Store on PostgreSQL through a pg connection pool. */
import pg from 'pg';
import { migrate, verifySchema, type MigrationResult } from './migrations.ts';
import { type SqlDriver, type SqlExecutor, SqlStore } from './sql.ts';

export interface PostgresOptions {
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /** Milliseconds to wait for a connection before a call fails as unavailable. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Milliseconds one statement may run. Default 15,000. */
  readonly statementTimeoutMs?: number;
  /** Called with errors of idle connections (the database restarting); they never throw. */
  readonly onConnectionError?: (error: Error) => void;
}

/** `postgres://user@host:port/db` without the password, for messages and logs. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

const wrap = (client: pg.Pool | pg.PoolClient | pg.Client): SqlExecutor => ({
  query: async <R>(sql: string, params?: readonly unknown[]) => {
    const result = await client.query(sql, params as unknown[] | undefined);
    return { rows: result.rows as R[] };
  },
  exec: async (sql: string) => {
    await client.query(sql);
  },
});

/** A SqlDriver over a pool: every transaction takes one connection for its duration. */
export function poolDriver(pool: pg.Pool): SqlDriver {
  return {
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // A connection that failed to roll back is in an unknown state: drop it from the pool.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    close: () => pool.end(),
  };
}

/** A SqlDriver over one connection (migrations need one session for the advisory lock). */
export function clientDriver(client: pg.Client): SqlDriver {
  return {
    ...wrap(client),
    async transaction(fn) {
      await client.query('BEGIN');
      try {
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    },
    close: () => client.end(),
  };
}

/**
 * Opens a pool on `url`. Connections are made lazily, so this succeeds while the database is down;
 * call `ping()` to know. Pass `verify: true` to check the schema is migrated (rejects otherwise).
 */
export async function openPostgresStore(url: string, options: PostgresOptions & { verify?: boolean } = {}): Promise<SqlStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    query_timeout: (options.statementTimeoutMs ?? 15_000) + 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'mmo-game-server',
  });
  // Without a listener an idle connection's error (database restart) would crash the process.
  pool.on('error', (error) => options.onConnectionError?.(error));
  const driver = poolDriver(pool);
  const store = new SqlStore(driver, describeUrl(url));
  if (options.verify) {
    try {
      await verifySchema(driver);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }
  return store;
}

/** Connects once to `url`, applies pending migrations, disconnects. */
export async function migratePostgres(url: string, connectTimeoutMs = 5_000): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, application_name: 'mmo-migrate' });
  client.on('error', () => {}); // reported through the failing query instead
  await client.connect();
  try {
    return await migrate(clientDriver(client));
  } finally {
    await client.end().catch(() => {});
  }
}
