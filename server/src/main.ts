/**
 * The game server process. `node server/src/main.ts` with no environment runs everything in one
 * process (in-process store, presence and bus) and serves the demo page on the game port.
 *
 * Exit codes: 0 after a drain, 2 for invalid configuration (one line on stderr names the variable),
 * 1 when startup fails otherwise.
 */
import { EXIT } from '../../contract/exit-codes.ts';
import { startServer, type Dependencies } from './app.ts';
import { AccountAuth } from './auth/accounts.ts';
import { createAuthHttpHandler } from './auth/http.ts';
import { LocalBus } from './bus/local.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { LocalPresence } from './presence/local.ts';
import { openPgliteStore } from './store/pglite.ts';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`invalid configuration: ${err.message}\n`);
    process.exit(EXIT.invalidInput);
  }
  throw err;
}

const log = createLogger(config.logLevel);

/** Local mode: every dependency in this process (embedded PostgreSQL in MMO_DATA_DIR). */
async function localDependencies(c: Config): Promise<Dependencies & { close(): Promise<void> }> {
  if (c.databaseUrl || c.redisUrl || c.amqpUrl) {
    throw new Error('DATABASE_URL, REDIS_URL and AMQP_URL are not supported by this build yet: unset them to run in local mode');
  }
  const store = await openPgliteStore(c.dataDir);
  const presence = new LocalPresence();
  const bus = new LocalBus();
  const auth = new AccountAuth(store, c.authSecret ? { secret: c.authSecret } : {});
  // Local mode serves one developer (or a load test from this machine): no cap on guest accounts
  // per address, which the clustered defaults keep.
  const routes = createAuthHttpHandler(auth, { createsPerMinute: 1_000_000 });
  return {
    store, presence, bus, auth, routes,
    close: async () => {
      await Promise.allSettled([bus.close(), presence.close(), store.close()]);
    },
  };
}

try {
  const deps = await localDependencies(config);
  const server = await startServer(config, deps, log);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.drainSeconds * 1000;
    log.info('signal received: draining', { signal, drainSeconds: config.drainSeconds });
    // Whatever happens, be gone before the grace period ends.
    setTimeout(() => {
      log.warn('drain overran its grace period: exiting');
      process.exit(EXIT.ok);
    }, Math.max(0, graceMs - 250)).unref();
    server
      .drain(graceMs)
      .then(() => deps.close())
      .then(() => {
        log.info('stopped');
        process.exit(EXIT.ok);
      })
      .catch((err: unknown) => {
        log.error('drain failed', { error: err });
        process.exit(EXIT.unexpected);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.error('startup failed', { error: err });
  process.exit(EXIT.unexpected);
}
