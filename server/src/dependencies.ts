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
import { AccountAuth, checkSecret } from './auth/accounts.ts';
import { type AuthHttpHandler, createAuthHttpHandler } from './auth/http.ts';
import { localWindows } from './limits/rate-window.ts';
import { redisWindows } from './limits/rate-window-redis.ts';
import type { Bus } from './bus/bus.ts';
import { LocalBus } from './bus/local.ts';
import { createLogger, type Logger } from './log.ts';
import { describeAmqpUrl, RabbitBus } from './bus/rabbitmq.ts';
import { LocalPresence } from './presence/local.ts';
import type { Presence } from './presence/presence.ts';
import { describeRedisUrl, RedisPresence } from './presence/redis.ts';
import { MemoryStore } from './store/memory.ts';
import { openWorkerStore } from './store/worker.ts';
import { describeUrl, migratePostgres, openPostgresStore } from './store/postgres.ts';
import type { Store } from './store/store.ts';
import { withTimeout } from './timeout.ts';

/** The part of the configuration this module reads (`loadConfig` validates it; tests may build one). */
export interface DependencyConfig {
  /** DATABASE_URL; unset → embedded PGlite in `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** MMO_DATA_DIR ("memory://" keeps the embedded database in memory). */
  readonly dataDir: string;
  /** REDIS_URL; unset → in-process presence. */
  readonly redisUrl?: string | undefined;
  /** AMQP_URL; unset → in-process bus. */
  readonly amqpUrl?: string | undefined;
  /** MMO_AUTH_SECRET; required when REDIS_URL or AMQP_URL is set. */
  readonly authSecret?: string | undefined;
  /** MMO_SERVER_ID (the host/pod name by default): names this process's direct queue. */
  readonly serverId: string;
}

export type DependencyName = 'store' | 'presence' | 'bus';

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

export interface Dependencies {
  readonly store: Store;
  readonly presence: Presence;
  readonly bus: Bus;
  readonly auth: AccountAuth;
  /** POST /auth/register|login|guest on the game port; resolves false for any other path. */
  readonly routes: AuthHttpHandler;
  /** Which implementation each part uses, for the start log line and /version. */
  readonly mode: { readonly store: 'postgres' | 'embedded' | 'memory'; readonly presence: 'redis' | 'local'; readonly bus: 'rabbitmq' | 'local' };
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
export async function connectDependencies(config: DependencyConfig, options: ConnectOptions = {}): Promise<Dependencies> {
  const log = options.log ?? createLogger('info');
  const timeout = options.connectTimeoutMs ?? 5_000;
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
  const lost = () => void health?.check().catch(() => {});
  const results = await Promise.allSettled([
    connectStore(config, options, timeout, log, lost),
    connectPresence(config, timeout, log, lost),
    connectBus(config, timeout, log, lost),
  ]);
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
  const value = <T>(r: PromiseSettledResult<T>) => (r as PromiseFulfilledResult<T>).value;
  const store = value(results[0]);
  const presence = value(results[1]);
  const bus = value(results[2]);
  // Login and account-creation limits live where presence does: with REDIS_URL every process counts
  // the same attempts (and a restart forgets none); while Redis is down logins answer `unavailable`.
  const windows = presence instanceof RedisPresence ? redisWindows(presence.connection) : localWindows();
  const auth = new AccountAuth(store, { secret: config.authSecret, requireSecret: clustered, windows });
  const mode = {
    store: config.databaseUrl ? 'postgres' : options.memoryStore ? 'memory' : 'embedded',
    presence: config.redisUrl ? 'redis' : 'local',
    bus: config.amqpUrl ? 'rabbitmq' : 'local',
  } as const;
  health = new DependencyHealth(
    { store: () => store.ping(), presence: () => presence.ping(), bus: () => bus.ping() },
    {
      onChange: (name, up, error) =>
        up ? log.info(`dependency ${name} is up`, { dependency: name }) : log.error(`dependency ${name} is down: ${error}`, { dependency: name }),
    },
  );
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

async function connectStore(config: DependencyConfig, options: ConnectOptions, timeout: number, log: Logger, lost: () => void): Promise<Store> {
  if (!config.databaseUrl) {
    if (options.memoryStore) return new MemoryStore();
    try {
      // PGlite computes in the thread that calls it: a worker keeps it off the game loop.
      return await openWorkerStore({ module: new URL('./store/pglite.ts', import.meta.url).href, factory: 'openPgliteStore', args: [config.dataDir] });
    } catch (error) {
      throw new DependencyError(ENV.dataDir.name, `${(error as Error).message}`, { cause: error });
    }
  }
  const where = describeUrl(config.databaseUrl);
  let store: Store | undefined;
  try {
    if (options.migrations === 'apply') await migratePostgres(config.databaseUrl, timeout);
    store = await openPostgresStore(config.databaseUrl, {
      connectTimeoutMs: timeout,
      verify: options.migrations !== 'apply',
      onConnectionError: (error) => {
        log.debug('database connection lost', { database: where, error });
        lost();
      },
    });
    await store.ping();
    return store;
  } catch (error) {
    await store?.close().catch(() => {});
    const message = (error as Error).message;
    if (/schema is behind|was changed after/.test(message)) throw new DependencyError(ENV.databaseUrl.name, `${ENV.databaseUrl.name}: ${message}`, { cause: error });
    throw new DependencyError(
      ENV.databaseUrl.name,
      `${ENV.databaseUrl.name}: cannot use the database at ${where}: ${message}. Check that PostgreSQL runs and is reachable from here and that the URL's user, password and database are right; or unset ${ENV.databaseUrl.name} to use the embedded database in ${ENV.dataDir.name} (single process only).`,
      { cause: error },
    );
  }
}

async function connectPresence(config: DependencyConfig, timeout: number, log: Logger, lost: () => void): Promise<Presence> {
  if (!config.redisUrl) return new LocalPresence();
  try {
    return await RedisPresence.connect(config.redisUrl, {
      connectTimeoutMs: timeout,
      onEvent: rateLimitedLog(log, 'presence', describeRedisUrl(config.redisUrl), lost),
    });
  } catch (error) {
    throw new DependencyError(
      ENV.redisUrl.name,
      `${ENV.redisUrl.name}: ${(error as Error).message}. Check that Redis runs and is reachable from here (and the URL's password); or unset ${ENV.redisUrl.name} to keep presence in this process (single process only).`,
      { cause: error },
    );
  }
}

async function connectBus(config: DependencyConfig, timeout: number, log: Logger, lost: () => void): Promise<Bus> {
  if (!config.amqpUrl) return new LocalBus({ onHandlerError: (error) => log.error('bus handler failed', { error }) });
  try {
    return await RabbitBus.connect(config.amqpUrl, {
      connectTimeoutMs: timeout,
      onEvent: rateLimitedLog(log, 'bus', describeAmqpUrl(config.amqpUrl), lost),
    });
  } catch (error) {
    throw new DependencyError(
      ENV.amqpUrl.name,
      `${ENV.amqpUrl.name}: ${(error as Error).message}. Check that RabbitMQ runs and is reachable from here (and the URL's user and password); or unset ${ENV.amqpUrl.name} to keep messages in this process (single process only).`,
      { cause: error },
    );
  }
}

/**
 * Connection events of a client, as debug detail (at most one line per kind every 10 s): the
 * operator's line is the health's "dependency X is down/up", which each event makes happen at once
 * by re-probing. A failing bus handler is a bug and logs an error.
 */
function rateLimitedLog(log: Logger, dependency: DependencyName, address: string, changed: () => void) {
  const last = new Map<string, number>();
  return (event: string, detail?: unknown) => {
    if (event !== 'handler_error') changed();
    const now = Date.now();
    if (event !== 'connected' && event !== 'ready' && now - (last.get(event) ?? 0) < 10_000) return;
    last.set(event, now);
    const level = event === 'handler_error' ? 'error' : 'debug';
    log.log(level, `${dependency} ${event.replace('_', ' ')}`, { dependency, address, ...(detail ? { error: detail } : {}) });
  };
}

export interface DependencyStatus {
  readonly up: boolean;
  /** Milliseconds timestamp of the last change. */
  readonly since: number;
  /** Why it is down. */
  readonly error?: string;
}

export interface DependencyHealthOptions {
  /** Milliseconds between probes. Default 5,000. */
  readonly intervalMs?: number;
  /** Milliseconds a probe may take before it counts as down. Default 2,000. */
  readonly timeoutMs?: number;
  /** Called when a dependency goes up or down (not on every probe). */
  readonly onChange?: (name: DependencyName, up: boolean, error?: string) => void;
}

/**
 * Probes each dependency periodically and keeps the last answer, so /health/ready and the
 * game_server_dependency_up gauge read a snapshot without doing I/O per request.
 */
export class DependencyHealth {
  readonly #probes: Readonly<Record<DependencyName, () => Promise<void>>>;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #onChange: NonNullable<DependencyHealthOptions['onChange']>;
  readonly #status = new Map<DependencyName, DependencyStatus>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(probes: Readonly<Record<DependencyName, () => Promise<void>>>, options: DependencyHealthOptions = {}) {
    this.#probes = probes;
    this.#interval = options.intervalMs ?? 5_000;
    this.#timeout = options.timeoutMs ?? 2_000;
    this.#onChange = options.onChange ?? (() => {});
  }

  /** Probes every dependency now (concurrently) and returns the fresh snapshot. */
  async check(): Promise<Readonly<Record<DependencyName, DependencyStatus>>> {
    this.#running ??= Promise.all(
      (Object.keys(this.#probes) as DependencyName[]).map(async (name) => {
        let error: string | undefined;
        try {
          await withTimeout(this.#probes[name](), this.#timeout, `no answer within ${this.#timeout} ms`);
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        this.#record(name, error);
      }),
    ).finally(() => {
      this.#running = undefined;
    });
    await this.#running;
    return this.snapshot();
  }

  /** Starts probing every `intervalMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.#interval);
    this.#timer.unref();
  }

  /** Stops probing. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The last known state of each dependency (down until first probed). */
  snapshot(): Readonly<Record<DependencyName, DependencyStatus>> {
    const out = {} as Record<DependencyName, DependencyStatus>;
    for (const name of Object.keys(this.#probes) as DependencyName[]) out[name] = this.#status.get(name) ?? { up: false, since: 0, error: 'not probed yet' };
    return out;
  }

  /** True when every dependency answered its last probe. */
  ready(): boolean {
    return Object.values(this.snapshot()).every((s) => s.up);
  }

  #record(name: DependencyName, error: string | undefined): void {
    const before = this.#status.get(name);
    const up = error === undefined;
    if (before && before.up === up) {
      if (!up) this.#status.set(name, { ...before, error });
      return;
    }
    this.#status.set(name, up ? { up, since: Date.now() } : { up, since: Date.now(), error });
    this.#onChange(name, up, error);
  }
}
