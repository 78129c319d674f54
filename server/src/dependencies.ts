/**
 * Chooses and connects the server's durable and shared parts from configuration, the way an
 * operator reads it: an unset URL means the embedded/in-process implementation (`npm start` needs no
 * service), a set URL means the real service, and a set URL that cannot be reached stops the start
 * with a message naming the variable and how to fix it.
 *
 * main.ts validates the environment with `loadConfig` (a Config is a DependencyConfig), connects
 * here and hands the result to `startServer`, which probes `deps.health` for readiness and serves
 * `deps.routes` (the /auth endpoints) on the game port:
 *
 *   const config = loadConfig();
 *   const deps = await connectDependencies(config, { log });
 *   const server = await startServer(config, deps, log);
 *   ... on SIGTERM: await server.drain(grace); await deps.close();  // after the final save
 */
import { ENV } from '../../contract/env.ts';
import type { ServerDependencies } from './app.ts';
import { AccountAuth, checkSecret } from './auth/accounts.ts';
import { type AuthHttpHandler, createAuthHttpHandler } from './auth/http.ts';
import type { Bus } from './bus/bus.ts';
import { LocalBus } from './bus/local.ts';
import { describeAmqpUrl, RabbitBus } from './bus/rabbitmq.ts';
import { localWindows, type RateWindows } from './limits/rate-window.ts';
import { redisWindows } from './limits/rate-window-redis.ts';
import { createLogger, type Logger } from './log.ts';
import { dependencyHealth, type DependencyHealth, type DependencyName } from './ops/health.ts';
import { LocalPresence } from './presence/local.ts';
import type { Presence } from './presence/presence.ts';
import { describeRedisUrl, RedisPresence } from './presence/redis.ts';
import { MemoryStore } from './store/memory.ts';
import { describeUrl, migratePostgres, openPostgresStore } from './store/postgres.ts';
import type { Store } from './store/store.ts';
import { openWorkerStore } from './store/worker.ts';

/** The part of the configuration this module reads (`loadConfig` validates it; tests may build one). */
export interface DependencyConfig {
  /** DATABASE_URL; unset → embedded PGlite in `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** MMO_DATA_DIR ("memory://" keeps the embedded database in memory). */
  readonly dataDir: string;
  /** REDIS_URL; unset → in-process presence and login rate windows. */
  readonly redisUrl?: string | undefined;
  /** AMQP_URL; unset → in-process bus. */
  readonly amqpUrl?: string | undefined;
  /** MMO_AUTH_SECRET; required when REDIS_URL or AMQP_URL is set. */
  readonly authSecret?: string | undefined;
  /** MMO_SERVER_ID (the host/pod name by default): names this process's direct queue. */
  readonly serverId: string;
}

export interface ConnectOptions {
  /** Where connection events go (reconnects, outages). Default: the server's logger at info. */
  readonly log?: Logger;
  /** Milliseconds each service may take to answer at start. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /**
   * With DATABASE_URL: "verify" (default) refuses a schema that is behind (the chart's migration
   * Job owns migrations); "apply" runs pending migrations itself. The embedded store always applies.
   */
  readonly migrations?: 'verify' | 'apply';
  /** Use MemoryStore instead of PGlite when DATABASE_URL is unset (unit tests of the server). */
  readonly memoryStore?: boolean;
}

/** Which implementation each backend uses, for the start log line. */
export interface BackendMode {
  readonly store: 'postgres' | 'embedded' | 'memory';
  readonly presence: 'redis' | 'local';
  readonly bus: 'rabbitmq' | 'local';
}

/** What connectDependencies hands the server: its dependencies, connected, and how to close them. */
export interface ConnectedDependencies extends ServerDependencies {
  readonly auth: AccountAuth;
  /** POST /auth/register|login|guest on the game port; resolves false for any other path. */
  readonly routes: AuthHttpHandler;
  readonly mode: BackendMode;
  /** Probes of each dependency for readiness and game_server_dependency_up. */
  readonly health: DependencyHealth;
  /** Stops probing and closes bus, presence and store (in that order). */
  close(): Promise<void>;
}

/** A dependency that cannot be used; the message names the variable and a fix. */
export class DependencyError extends Error {
  override name = 'DependencyError';
  /** The environment variable to look at. */
  readonly variable: string;
  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.variable = variable;
  }
}

/** Connects every dependency (in parallel); on any failure closes the others and throws DependencyError. */
export async function connectDependencies(config: DependencyConfig, options: ConnectOptions = {}): Promise<ConnectedDependencies> {
  const log = options.log ?? createLogger('info');
  const clustered = config.redisUrl !== undefined || config.amqpUrl !== undefined;

  // The secret is checked first: it needs no I/O and a missing one is a plain configuration error.
  try {
    checkSecret(config.authSecret, clustered);
  } catch (error) {
    throw new DependencyError(ENV.authSecret.name, (error as Error).message, { cause: error });
  }

  // A client noticing a lost connection re-probes at once, so readiness drops within moments
  // instead of at the next periodic probe; the health's change is then the one line an operator
  // reads (the clients' own connection events are debug detail).
  let health: DependencyHealth | undefined;
  const { store, presence, bus, windows, mode } = await connectBackends(config, options, log, () => void health?.check().catch(() => {}));
  const auth = new AccountAuth(store, { secret: config.authSecret, requireSecret: clustered, windows });
  health = dependencyHealth({ store, presence, bus }, log);
  await health.check();
  log.info('dependencies connected', { ...mode, ...(config.databaseUrl ? { database: describeUrl(config.databaseUrl) } : { dataDir: config.dataDir }) });
  return {
    store,
    presence,
    bus,
    auth,
    routes: createAuthHttpHandler(auth, { windows }),
    mode,
    health,
    async close() {
      health.stop();
      await bus.close().catch(() => {});
      await presence.close().catch(() => {});
      await store.close().catch(() => {});
    },
  };
}

/** The backends, each local or clustered, in one bundle. */
interface Backends {
  readonly store: Store;
  readonly presence: Presence;
  readonly bus: Bus;
  /** The login and account-creation rate windows: always where presence is. */
  readonly windows: RateWindows;
  readonly mode: BackendMode;
}

/** A connected backend, and how to close it when another one fails to connect. */
interface Part<T> {
  readonly value: T;
  close(): Promise<void>;
}

const part = <T extends { close(): Promise<void> }>(value: T): Part<T> => ({ value, close: () => value.close() });

/** What connecting a backend needs besides the configuration. */
interface Connecting {
  readonly options: ConnectOptions;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** A client saw its connection drop: re-probe now. */
  readonly lost: () => void;
}

/**
 * The one place the backends are chosen, each from its own URL: unset, in this process; set, the
 * service it names. Connects them in parallel; on any failure closes the others and throws.
 */
async function connectBackends(config: DependencyConfig, options: ConnectOptions, log: Logger, lost: () => void): Promise<Backends> {
  const c: Connecting = { options, timeoutMs: options.connectTimeoutMs ?? 5_000, log, lost };
  const results = await Promise.allSettled([connectStore(config, c), connectPresence(config, c), connectBus(config, c)]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
  if (failures.length > 0) {
    for (const r of results) if (r.status === 'fulfilled') await r.value.close().catch(() => {});
    if (failures.length === 1) throw failures[0];
    throw new DependencyError(
      failures.map((f) => (f instanceof DependencyError ? f.variable : '?')).join(', '),
      failures.map((f) => f.message).join('\n'),
      { cause: failures[0] },
    );
  }
  const value = <T>(r: PromiseSettledResult<Part<T>>) => (r as PromiseFulfilledResult<Part<T>>).value.value;
  const { presence, windows } = value(results[1]);
  return {
    store: value(results[0]),
    presence,
    windows,
    bus: value(results[2]),
    mode: {
      store: config.databaseUrl ? 'postgres' : options.memoryStore ? 'memory' : 'embedded',
      presence: config.redisUrl ? 'redis' : 'local',
      bus: config.amqpUrl ? 'rabbitmq' : 'local',
    },
  };
}

/**
 * Presence and the login rate windows, chosen together: with REDIS_URL both run on one Redis
 * connection, so every process counts the same attempts (and a restart forgets none); while Redis
 * is down, logins answer `unavailable`.
 */
async function connectPresence(config: DependencyConfig, c: Connecting): Promise<Part<{ presence: Presence; windows: RateWindows }>> {
  const url = config.redisUrl;
  if (!url) return { value: { presence: new LocalPresence(), windows: localWindows() }, close: async () => {} };
  const name = ENV.redisUrl.name;
  const fix = `Check that Redis runs and is reachable from here (and the URL's password); or unset ${name} to keep presence in this process (single process only).`;
  return connectService(name, refusal(name, fix), async () => {
    const presence = await RedisPresence.connect(url, { connectTimeoutMs: c.timeoutMs, onEvent: connectionEvents(c, 'presence', describeRedisUrl(url)) });
    return { value: { presence, windows: redisWindows(presence.connection) }, close: () => presence.close() };
  });
}

async function connectBus(config: DependencyConfig, c: Connecting): Promise<Part<Bus>> {
  const url = config.amqpUrl;
  if (!url) return part(new LocalBus({ onHandlerError: (error) => c.log.error('bus handler failed', { error }) }));
  const name = ENV.amqpUrl.name;
  const fix = `Check that RabbitMQ runs and is reachable from here (and the URL's user and password); or unset ${name} to keep messages in this process (single process only).`;
  return connectService(name, refusal(name, fix), async () =>
    part(await RabbitBus.connect(url, { connectTimeoutMs: c.timeoutMs, onEvent: connectionEvents(c, 'bus', describeAmqpUrl(url)) })),
  );
}

/**
 * Runs `connect`; a failure becomes a DependencyError naming `variable`, its message what
 * `describe` makes of the error's. Every backend that can fail to open is connected through here.
 */
async function connectService<T>(variable: string, describe: (message: string) => string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    throw new DependencyError(variable, describe((error as Error).message), { cause: error });
  }
}

/** How a configured service's refusal reads: `VARIABLE: what failed. How to fix it.` */
const refusal = (variable: string, fix: string) => (message: string) => `${variable}: ${message}. ${fix}`;

async function connectStore(config: DependencyConfig, c: Connecting): Promise<Part<Store>> {
  const { options, log, lost } = c;
  const databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    if (options.memoryStore) return part(new MemoryStore());
    // PGlite computes in the thread that calls it: a worker keeps it off the game loop.
    return connectService(ENV.dataDir.name, (message) => message, async () =>
      part(await openWorkerStore({ module: new URL('./store/pglite.ts', import.meta.url).href, factory: 'openPgliteStore', args: [config.dataDir] })),
    );
  }
  const where = describeUrl(databaseUrl);
  const name = ENV.databaseUrl.name;
  const unreachable = refusal(
    name,
    `Check that PostgreSQL runs and is reachable from here and that the URL's user, password and database are right; or unset ${name} to use the embedded database in ${ENV.dataDir.name} (single process only).`,
  );
  return connectService(
    name,
    // A schema behind the code is no connection problem: its message already says what to run.
    (message) => (/schema is behind|was changed after/.test(message) ? `${name}: ${message}` : unreachable(`cannot use the database at ${where}: ${message}`)),
    async () => {
      let store: Store | undefined;
      try {
        if (options.migrations === 'apply') await migratePostgres(databaseUrl, c.timeoutMs);
        store = await openPostgresStore(databaseUrl, {
          connectTimeoutMs: c.timeoutMs,
          verify: options.migrations !== 'apply',
          onConnectionError: (error) => {
            log.debug('database connection lost', { database: where, error });
            lost();
          },
        });
        await store.ping();
        return part(store);
      } catch (error) {
        await store?.close().catch(() => {});
        throw error;
      }
    },
  );
}

/**
 * Connection events of a client, as debug detail (at most one line per kind every 10 s): the
 * operator's line is the health's "dependency X is down/up", which each event makes happen at once
 * by re-probing. A failing bus handler is a bug and logs an error.
 */
function connectionEvents(c: Connecting, dependency: DependencyName, address: string) {
  const last = new Map<string, number>();
  return (event: string, detail?: unknown) => {
    if (event !== 'handler_error') c.lost();
    const now = Date.now();
    if (event !== 'connected' && event !== 'ready' && now - (last.get(event) ?? 0) < 10_000) return;
    last.set(event, now);
    const level = event === 'handler_error' ? 'error' : 'debug';
    c.log.log(level, `${dependency} ${event.replace('_', ' ')}`, { dependency, address, ...(detail ? { error: detail } : {}) });
  };
}
