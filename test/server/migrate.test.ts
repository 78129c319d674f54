// `node server/src/migrate.ts`, as the chart's migration Job runs it, against the real PostgreSQL.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../../scripts/lib/ports.ts';
import { Services } from '../../scripts/services/services.ts';
import { MigrationError, loadMigrations, migrate, verifySchema } from '../../server/src/store/migrations.ts';
import { clientDriver } from '../../server/src/store/postgres.ts';
import { waitFor } from '../../scripts/lib/wait.ts';
import { createDatabase } from './helpers.ts';

const script = join(import.meta.dirname, '../../server/src/migrate.ts');

interface Run {
  code: number;
  lines: { level: string; msg: string; applied?: string[] }[];
  stdout: string;
  stderr: string;
}

/** Runs the command to its end; `onStdout` sees the output so far each time more arrives. */
function runMigrate(env: Record<string, string>, args: string[] = [], onStdout?: (soFar: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 90_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run['lines'][number]);
      resolve({ code, lines, stdout, stderr });
    });
    let soFar = '';
    child.stdout?.on('data', (chunk: Buffer | string) => {
      soFar += String(chunk);
      onStdout?.(soFar);
    });
  });
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const tablesOf = (url: string) =>
  withClient(url, async (c) =>
    (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.t),
  );

describe('migrate command', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });
  const freshDb = async () => {
    const db = await createDatabase();
    drops.push(db.drop);
    return db.url;
  };

  it('creates every table on an empty database, then finds nothing to do on a re-run', async () => {
    const url = await freshDb();
    const first = await runMigrate({ DATABASE_URL: url });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.lines.at(-1)).toMatchObject({ level: 'info', msg: 'migrations applied', applied: loadMigrations().map((m) => m.name) });
    expect(await tablesOf(url)).toEqual(['accounts', 'characters', 'inventory_items', 'schema_migrations']);
    const before = await withClient(url, async (c) => (await c.query('SELECT name, applied_at FROM schema_migrations ORDER BY 1')).rows);

    const second = await runMigrate({ DATABASE_URL: url });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.lines.at(-1)).toMatchObject({ msg: 'schema already current', applied: [] });
    expect(await withClient(url, async (c) => (await c.query('SELECT name, applied_at FROM schema_migrations ORDER BY 1')).rows)).toEqual(before);
  });

  it('is safe when several run at once: one applies, the others find the schema current', async () => {
    const url = await freshDb();
    const runs = await Promise.all([1, 2, 3].map(() => runMigrate({ DATABASE_URL: url })));
    for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);
    const appliedCounts = runs.map((r) => r.lines.at(-1)?.applied?.length ?? -1).sort();
    expect(appliedCounts).toEqual([0, 0, loadMigrations().length]);
    expect(await tablesOf(url)).toContain('inventory_items');
  });

  it('says which database it cannot reach and how to fix it, without printing the password', async () => {
    const port = await freeTcpPort();
    const run = await runMigrate({ DATABASE_URL: `postgres://mmo:s3cret-pw@127.0.0.1:${port}/mmo` });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`cannot reach the database at postgres://mmo@127.0.0.1:${port}/mmo`);
    expect(run.stdout).toContain('Check DATABASE_URL');
    expect(run.stdout).toContain('--wait');
    expect(run.stdout + run.stderr).not.toContain('s3cret-pw');
  });

  it('waits for a database that starts late when given --wait', async () => {
    const url = await freshDb();
    const services = new Services();
    await services.stop('postgres');
    try {
      // Start PostgreSQL only once the command has said it is waiting, however slowly it got there.
      let output = '';
      let finished: Run | undefined;
      const running = runMigrate({ DATABASE_URL: url }, ['--wait', '60'], (soFar) => (output = soFar));
      void running.then((run) => (finished = run));
      await waitFor(
        "migrate to log 'waiting for the database'",
        () => {
          if (output.includes('"msg":"waiting for the database"')) return true;
          if (finished) throw new Error(`migrate exited (code ${finished.code}) before waiting for the database:\n${finished.stdout}${finished.stderr}`);
          return false;
        },
        20_000,
      );
      await services.start('postgres');
      const run = await running;
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.lines.map((l) => l.msg)).toContain('waiting for the database');
      expect(run.lines.at(-1)?.msg).toBe('migrations applied');
    } finally {
      await services.start('postgres');
    }
  });

  it('refuses bad arguments and a non-PostgreSQL URL with exit code 2', async () => {
    const bad = await runMigrate({}, ['--wait', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--wait expects whole seconds');
    const unknown = await runMigrate({}, ['--force']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown argument "--force"');
    const mysql = await runMigrate({ DATABASE_URL: 'mysql://db/x' });
    expect(mysql.code).toBe(2);
    expect(mysql.stderr).toContain('DATABASE_URL must be a postgres://');
  });

  it('refuses to run over a shipped migration that was edited', async () => {
    const url = await freshDb();
    await withClient(url, async (c) => {
      const db = clientDriver(c);
      await migrate(db);
      const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
      await expect(migrate(db, edited)).rejects.toBeInstanceOf(MigrationError);
      await expect(migrate(db, edited)).rejects.toThrow(/was changed after it was applied/);
    });
  });

  it('lets a server refuse to start on a schema that is behind', async () => {
    const url = await freshDb();
    await withClient(url, async (c) => {
      await expect(verifySchema(clientDriver(c))).rejects.toThrow(/schema is behind .*npm run migrate/);
      await migrate(clientDriver(c));
      await expect(verifySchema(clientDriver(c))).resolves.toBeUndefined();
    });
  });
});
