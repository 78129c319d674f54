/**
 * The game server process. `node server/src/main.ts` with no environment runs everything in one
 * process (embedded PostgreSQL in MMO_DATA_DIR, in-process presence and bus) and serves the demo
 * page on the game port; DATABASE_URL, REDIS_URL and AMQP_URL switch each part to the real service.
 *
 * Exit codes: 0 after a drain, 2 for invalid configuration (one line on stderr names the variable),
 * 1 when startup fails otherwise (a configured service unreachable: the log line says which and how
 * to fix it).
 */
import { EXIT } from '../../contract/exit-codes.ts';
import { startServer } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { connectDependencies, DependencyError } from './dependencies.ts';
import { createLogger } from './log.ts';

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

try {
  const deps = await connectDependencies(config, { log });
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
  if (err instanceof DependencyError) log.error(`startup failed: ${err.message}`, { variable: err.variable });
  else log.error('startup failed', { error: err });
  process.exit(EXIT.unexpected);
}
