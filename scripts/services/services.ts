/**
 * Our own PostgreSQL, Redis and RabbitMQ for the server suite, from Debian's packages, on loopback.
 *
 *   node scripts/services/services.ts up|down|status|env
 *   node scripts/services/services.ts start|stop postgres|redis|rabbitmq
 *
 * State lives in the checkout's `.tmp/services/` so two checkouts can run at once: each service gets
 * ports chosen free when it is first set up and keeps them across stop/start (the outage tests stop
 * and start one service and expect the same URL to work again). RabbitMQ nodes get a name derived
 * from the checkout path; they share the machine's epmd. Every command is idempotent.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, chownSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock } from '../lib/lock.ts';
import { freeTcpPort } from '../lib/ports.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

export const SERVICE_NAMES = ['postgres', 'redis', 'rabbitmq'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceUrls {
  readonly DATABASE_URL: string;
  readonly REDIS_URL: string;
  readonly AMQP_URL: string;
}

/**
 * The URLs of the three services reached at `at` (loopback for this machine's programs; the live
 * rig's pods reach them through forwarders on its bridge): the user, password and database every
 * service here is set up with.
 */
export function serviceUrls(at: Record<ServiceName, { host: string; port: number }>): ServiceUrls {
  return {
    DATABASE_URL: `postgres://postgres@${at.postgres.host}:${at.postgres.port}/postgres`,
    REDIS_URL: `redis://${at.redis.host}:${at.redis.port}`,
    AMQP_URL: `amqp://guest:guest@${at.rabbitmq.host}:${at.rabbitmq.port}`,
  };
}

interface State {
  postgres?: { port: number };
  redis?: { port: number };
  rabbitmq?: { port: number; distPort: number; node: string };
}

const PG_BIN = '/usr/lib/postgresql/15/bin';
const RABBIT_BIN = '/usr/lib/rabbitmq/bin';
const FIX = 'install them with `sudo scripts/setup/system-packages.sh` (it reads scripts/setup/debian-packages.txt)';

/** Thrown with a message that says what is missing or broken and how to fix it. */
export class ServiceError extends Error {
  override name = 'ServiceError';
}

export class Services {
  readonly dir: string;
  readonly #stateFile: string;

  constructor(root = PROJECT_ROOT) {
    this.dir = join(root, '.tmp', 'services');
    this.#stateFile = join(this.dir, 'state.json');
  }

  /** Starts every service that is not running; resolves with their URLs once each accepts clients. */
  async up(): Promise<ServiceUrls> {
    this.checkInstalled();
    return this.#locked('services up', async () => {
      await this.#assignPorts();
      await Promise.all(SERVICE_NAMES.map((name) => this.#start(name)));
      return this.urls();
    });
  }

  /** Stops every running service; data stays for the next `up`. */
  async down(): Promise<void> {
    await this.#locked('services down', async () => {
      await Promise.all(SERVICE_NAMES.map((name) => this.#stop(name)));
    });
  }

  /** Starts one service (after `up` has set it up once). */
  async start(name: ServiceName): Promise<void> {
    await this.#locked(`services start ${name}`, async () => {
      await this.#assignPorts();
      await this.#start(name);
    });
  }

  /** Stops one service (the outage tests use this), keeping its port and data. */
  async stop(name: ServiceName): Promise<void> {
    await this.#locked(`services stop ${name}`, () => this.#stop(name));
  }

  /** Whether each service accepts connections now. */
  async status(): Promise<Record<ServiceName, boolean>> {
    const state = this.#readState();
    const result = {} as Record<ServiceName, boolean>;
    for (const name of SERVICE_NAMES) {
      const port = state[name]?.port;
      result[name] = port !== undefined && (await this.#ready(name, port));
    }
    return result;
  }

  /** Connection URLs (ports must have been assigned by `up` once). */
  urls(): ServiceUrls {
    const s = this.#readState();
    if (!s.postgres || !s.redis || !s.rabbitmq) throw new ServiceError(`services are not set up in ${this.dir}: run \`npm run services -- up\``);
    const at = (port: number) => ({ host: '127.0.0.1', port });
    return serviceUrls({ postgres: at(s.postgres.port), redis: at(s.redis.port), rabbitmq: at(s.rabbitmq.port) });
  }

  /** Throws naming every missing program and the command that installs it. */
  checkInstalled(): void {
    const needed: [string, string][] = [
      [join(PG_BIN, 'postgres'), 'postgresql'],
      [join(PG_BIN, 'initdb'), 'postgresql'],
      ['/usr/bin/redis-server', 'redis-server'],
      [join(RABBIT_BIN, 'rabbitmq-server'), 'rabbitmq-server'],
    ];
    const missing = [...new Set(needed.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg))];
    if (missing.length > 0) {
      throw new ServiceError(`the server suite needs the Debian packages ${missing.join(', ')}, which are not installed: ${FIX}`);
    }
  }

  // --- one service ---------------------------------------------------------------------------

  async #start(name: ServiceName): Promise<void> {
    const state = this.#readState();
    const port = state[name]!.port;
    if (await this.#ready(name, port)) return;
    const dir = this.#serviceDir(name);
    mkdirSync(dir, { recursive: true });
    if (name === 'postgres') await this.#startPostgres(dir, port);
    if (name === 'redis') this.#startRedis(dir, port);
    if (name === 'rabbitmq') this.#startRabbit(dir, state.rabbitmq!);
    await this.#waitReady(name, port, dir);
  }

  async #stop(name: ServiceName): Promise<void> {
    const dir = this.#serviceDir(name);
    const pidFile = { postgres: join(dir, 'data', 'postmaster.pid'), redis: join(dir, 'redis.pid'), rabbitmq: join(dir, 'wrapper.pid') }[name];
    const pids = [readPid(pidFile)];
    if (name === 'rabbitmq') pids.push(readPid(join(dir, 'rabbitmq.pid')));
    const live = pids.filter((pid): pid is number => pid !== undefined && alive(pid));
    // postgres: SIGINT is its "fast" shutdown (no waiting for clients); the others stop cleanly on TERM.
    for (const pid of live) process.kill(pid, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (live.some(alive)) {
      if (Date.now() > deadline) {
        for (const pid of live.filter(alive)) process.kill(pid, 'SIGKILL');
        break;
      }
      await sleep(100);
    }
    const port = this.#readState()[name]?.port;
    if (port !== undefined) {
      while (await portOpen(port)) {
        if (Date.now() > deadline + 5_000) throw new ServiceError(`${name} still listens on ${port} after stopping; see ${dir}`);
        await sleep(100);
      }
    }
  }

  async #startPostgres(dir: string, port: number): Promise<void> {
    const data = join(dir, 'data');
    // PostgreSQL refuses to run as root: run it as the `postgres` user the package creates.
    const asRoot = process.getuid?.() === 0;
    const runAs = (cmd: string, args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
    if (asRoot) chownSync(dir, uid('postgres'), gid('postgres'));
    if (!existsSync(join(data, 'PG_VERSION'))) {
      rmSync(data, { recursive: true, force: true });
      run(...runAs(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C.UTF-8']), `initdb (log: ${dir})`);
    }
    const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='' -c max_connections=200`;
    run(
      ...runAs(join(PG_BIN, 'pg_ctl'), ['start', '-D', data, '-l', join(dir, 'postgres.log'), '-o', options, '-w', '-t', '60']),
      `pg_ctl start (log: ${join(dir, 'postgres.log')})`,
    );
  }

  #startRedis(dir: string, port: number): void {
    run('/usr/bin/redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--dir', dir,
      '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'),
      '--save', '', '--appendonly', 'no',
    ], 'redis-server');
  }

  #startRabbit(dir: string, s: NonNullable<State['rabbitmq']>): void {
    mkdirSync(join(dir, 'log'), { recursive: true });
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    writeFileSync(join(dir, 'rabbitmq.conf'), 'loopback_users.guest = true\nlog.console = false\nlog.file.level = info\n');
    const env = {
      ...process.env,
      ...this.rabbitEnv(),
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(s.port),
      RABBITMQ_DIST_PORT: String(s.distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    };
    const out = openSync(join(dir, 'startup.log'), 'a');
    const child: ChildProcess = spawn(join(RABBIT_BIN, 'rabbitmq-server'), [], { env, detached: true, stdio: ['ignore', out, out], cwd: dir });
    writeFileSync(join(dir, 'wrapper.pid'), `${child.pid}\n`);
    child.unref();
  }

  /** Environment for rabbitmqctl and friends to reach this checkout's node. */
  rabbitEnv(): Record<string, string> {
    const s = this.#readState().rabbitmq;
    if (!s) throw new ServiceError('rabbitmq is not set up: run `npm run services -- up`');
    // HOME holds the Erlang cookie the node and its CLI tools share.
    return { HOME: join(this.dir, 'rabbitmq'), RABBITMQ_NODENAME: s.node };
  }

  async #ready(name: ServiceName, port: number): Promise<boolean> {
    if (name === 'rabbitmq') return amqpAnswers(port);
    if (name === 'redis') return redisAnswers(port);
    return portOpen(port);
  }

  async #waitReady(name: ServiceName, port: number, dir: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (!(await this.#ready(name, port))) {
      if (Date.now() > deadline) throw new ServiceError(`${name} did not accept connections on 127.0.0.1:${port} within 90 s; see the logs in ${dir}`);
      await sleep(200);
    }
  }

  /**
   * Where a service keeps its data and logs: `.tmp/services/<name>`. PostgreSQL runs as the
   * `postgres` user when we are root; if that user cannot enter the checkout (a private clone
   * directory), its data goes to a per-checkout directory under /tmp instead.
   */
  #serviceDir(name: ServiceName): string {
    const dir = join(this.dir, name);
    if (name !== 'postgres' || process.getuid?.() !== 0) return dir;
    for (let d = this.dir; d !== dirname(d); d = dirname(d)) {
      if (existsSync(d) && (statSync(d).mode & 0o001) === 0) {
        return join('/tmp', `mmoctl-postgres-${createHash('sha256').update(this.dir).digest('hex').slice(0, 12)}`);
      }
    }
    return dir;
  }

  // --- state ---------------------------------------------------------------------------------

  #readState(): State {
    try {
      return JSON.parse(readFileSync(this.#stateFile, 'utf8')) as State;
    } catch {
      return {};
    }
  }

  /** Chooses free ports once; later runs reuse them unless another program took one meanwhile. */
  async #assignPorts(): Promise<void> {
    const state = this.#readState();
    // A kept port is reused unless the service is down and something else took the port meanwhile.
    const unusable = async (name: ServiceName, ports: (number | undefined)[]) => {
      if (ports.some((p) => p === undefined)) return true;
      if (await this.#ready(name, ports[0]!)) return false;
      for (const p of ports) if (!(await portFree(p!))) return true;
      return false;
    };
    if (await unusable('postgres', [state.postgres?.port])) state.postgres = { port: await freeTcpPort() };
    if (await unusable('redis', [state.redis?.port])) state.redis = { port: await freeTcpPort() };
    if (await unusable('rabbitmq', [state.rabbitmq?.port, state.rabbitmq?.distPort])) {
      const node = `mmo-${createHash('sha256').update(this.dir).digest('hex').slice(0, 10)}@localhost`;
      state.rabbitmq = { port: await freeTcpPort(), distPort: await freeTcpPort(), node };
    }
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.#stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  /**
   * One command at a time per checkout (vitest workers and a shell may race). The kernel holds the
   * lock (flock), so a holder that dies releases it: there is no stale lock to break or clean up.
   */
  async #locked<T>(purpose: string, fn: () => Promise<T>): Promise<T> {
    const lock = await acquireLock(join(this.dir, 'services.lock'), { purpose, timeoutMs: 180_000 }).catch((error: unknown) => {
      throw new ServiceError((error as Error).message, { cause: error });
    });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }
}

// --- helpers -------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], what: string): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (error) {
    const e = error as { stderr?: Buffer; stdout?: Buffer };
    const detail = `${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new ServiceError(`${what} failed: ${detail || String(error)}`, { cause: error });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped) still answers kill 0.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}
function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** Connects, optionally writes `hello`, and resolves with the first bytes answered (or undefined). */
function probe(port: number, hello?: Buffer | string, timeoutMs = 1_000): Promise<Buffer | undefined> {
  return new Promise((resolveProbe) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (value: Buffer | undefined) => {
      socket.destroy();
      resolveProbe(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => {
      if (hello === undefined) done(Buffer.alloc(0));
      else socket.write(hello);
    });
    socket.once('data', (data) => done(data));
  });
}

async function portOpen(port: number): Promise<boolean> {
  return (await probe(port)) !== undefined;
}

async function redisAnswers(port: number): Promise<boolean> {
  return (await probe(port, 'PING\r\n'))?.toString().startsWith('+PONG') ?? false;
}

/** True once the broker answers the AMQP 0-9-1 header with a Connection.Start frame. */
async function amqpAnswers(port: number): Promise<boolean> {
  const answer = await probe(port, Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
  return answer !== undefined && answer.length > 0 && answer[0] === 1;
}

// --- command line --------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const [command, name] = argv;
  const services = new Services();
  const usage = 'usage: services.ts up|down|status|env | start|stop postgres|redis|rabbitmq';
  const service = (): ServiceName => {
    if (!SERVICE_NAMES.includes(name as ServiceName)) throw new ServiceError(`expected a service name (${SERVICE_NAMES.join('|')}), got ${JSON.stringify(name)}\n${usage}`);
    return name as ServiceName;
  };
  switch (command) {
    case 'up': {
      const urls = await services.up();
      for (const [key, value] of Object.entries(urls)) console.log(`${key}=${value}`);
      return 0;
    }
    case 'down':
      await services.down();
      return 0;
    case 'start':
      await services.start(service());
      return 0;
    case 'stop':
      await services.stop(service());
      return 0;
    case 'env':
      for (const [key, value] of Object.entries(services.urls())) console.log(`export ${key}=${value}`);
      return 0;
    case 'status': {
      const status = await services.status();
      for (const [key, up] of Object.entries(status)) console.log(`${key.padEnd(9)} ${up ? 'up' : 'down'}`);
      return Object.values(status).every(Boolean) ? 0 : 3;
    }
    default:
      console.error(usage);
      return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ServiceError ? `services: ${error.message}` : error);
      process.exit(1);
    },
  );
}
