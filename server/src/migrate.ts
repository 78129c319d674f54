/**
 * Brings the database schema up to date, then exits. The chart's migration Job runs exactly this
 * command in the server image; `npm run migrate` runs it locally.
 *
 *   node server/src/migrate.ts [--wait <seconds>]
 *
 * DATABASE_URL names the database; unset, the embedded one in MMO_DATA_DIR is migrated. --wait
 * keeps retrying an unreachable database for that long (a Job starting before PostgreSQL is up).
 * Exit codes: 0 migrated (or already current), 1 failed or unreachable, 2 bad arguments.
 * Output: JSON lines on stdout, like the server's logs.
 */
import { EXIT } from '../../contract/exit-codes.ts';
import { ENV } from '../../contract/env.ts';
import { createLogger } from './log.ts';
import { MigrationError, type MigrationResult } from './store/migrations.ts';
import { describeUrl, migratePostgres } from './store/postgres.ts';
import { openPgliteStore } from './store/pglite.ts';
import { toStoreError } from './store/sql.ts';
import { StoreError } from './store/store.ts';

const USAGE = 'usage: node server/src/migrate.ts [--wait <seconds>]';

const log = createLogger('info', undefined, { component: 'migrate' });

/** Parses the arguments; throws a message naming the bad one. */
export function parseArgs(argv: readonly string[]): { waitSeconds: number } {
  let waitSeconds = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = arg.startsWith('--wait=') ? arg.slice('--wait='.length) : undefined;
    if (arg === '--wait' || inline !== undefined) {
      const value = inline ?? argv[++i];
      if (value === undefined || !/^\d+$/.test(value) || Number(value) > 86_400) {
        throw new Error(`--wait expects whole seconds between 0 and 86400, got ${JSON.stringify(value ?? '')}`);
      }
      waitSeconds = Number(value);
    } else if (arg === '--help' || arg === '-h') {
      throw new Error(USAGE);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return { waitSeconds };
}

/** SQLSTATEs worth a retry while waiting: the server is starting, shutting down or full. */
const TRANSIENT = /^(57P0[1-3]|53300|08\w{3})$/;

async function migrateWithRetry(url: string, waitSeconds: number): Promise<MigrationResult> {
  const target = describeUrl(url);
  const deadline = Date.now() + waitSeconds * 1000;
  let delay = 500;
  let lastLog = 0;
  for (;;) {
    try {
      return await migratePostgres(url);
    } catch (error) {
      const mapped = toStoreError(error, target);
      const code = String((error as { code?: unknown }).code ?? '');
      const retriable = (mapped instanceof StoreError && mapped.code === 'unavailable') || TRANSIENT.test(code);
      if (!retriable) throw error;
      if (Date.now() >= deadline) {
        throw new Error(
          `cannot reach the database at ${target}${waitSeconds ? ` within ${waitSeconds} s` : ''}: ${reason(error)}. ` +
            `Check ${ENV.databaseUrl.name} (host, port, database name) and that PostgreSQL is running and accepts connections from here` +
            `${waitSeconds ? '' : '; pass --wait <seconds> to wait for it to start'}.`,
          { cause: error },
        );
      }
      if (Date.now() - lastLog > 5_000) {
        log.warn('waiting for the database', { database: target, reason: reason(error), secondsLeft: Math.round((deadline - Date.now()) / 1000) });
        lastLog = Date.now();
      }
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  const e = error as { code?: unknown; message?: unknown };
  return [e.code, e.message].filter((p) => typeof p === 'string' && p.length > 0).join(' ') || String(error);
}

function hint(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === '3D000') return `; create the database or fix its name in ${ENV.databaseUrl.name}`;
  if (code === '28P01' || code === '28000') return `; fix the user or password in ${ENV.databaseUrl.name}`;
  if (code === '42501') return '; the user needs the right to create tables in this database';
  return '';
}

/** Runs the command; resolves with the process exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let args: { waitSeconds: number };
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`migrate: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT.invalidInput;
  }
  const url = env[ENV.databaseUrl.name]?.trim();
  try {
    if (url) {
      if (!/^postgres(ql)?:\/\//.test(url)) {
        process.stderr.write(`migrate: ${ENV.databaseUrl.name} must be a postgres:// or postgresql:// URL, got ${JSON.stringify(describeUrl(url))}\n`);
        return EXIT.invalidInput;
      }
      const result = await migrateWithRetry(url, args.waitSeconds);
      log.info(result.applied.length ? 'migrations applied' : 'schema already current', { database: describeUrl(url), ...result });
    } else {
      const dataDir = env[ENV.dataDir.name]?.trim() || ENV.dataDir.default;
      const store = await openPgliteStore(dataDir); // opening applies pending migrations
      await store.close();
      log.info('embedded database migrated', { dataDir });
    }
    return EXIT.ok;
  } catch (error) {
    const known = error instanceof MigrationError || (error as Error).message?.startsWith('cannot reach');
    log.error(known ? (error as Error).message : `migration failed: ${reason(error)}${hint(error)}`, {
      database: url ? describeUrl(url) : 'embedded',
      code: (error as { code?: unknown }).code,
    });
    return EXIT.unexpected;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
