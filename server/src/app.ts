/**
 * One game server process: world, transports, ops endpoints and the periodic jobs around them
 * (dependency checks, saves, presence reports). `main.ts` builds the dependencies from the
 * configuration and calls `startServer`; tests call it directly with their own.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Auth } from './auth/auth.ts';
import type { Bus } from './bus/bus.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { createMetrics, type ServerMetrics } from './ops/metrics.ts';
import { createHealthServer, createMetricsServer, type Readiness, type VersionInfo } from './ops/server.ts';
import type { Presence } from './presence/presence.ts';
import { PROTOCOL_VERSION } from './protocol/codec.ts';
import type { Store } from './store/store.ts';
import { Gateway } from './transports/gateway.ts';
import { createHttpHandler } from './transports/http.ts';
import { attachUdp, type UdpTransport } from './transports/udp.ts';
import { attachWebSocket } from './transports/ws.ts';
import { Ticker } from './world/tick.ts';
import { TRANSPORTS, Traffic } from './world/traffic.ts';
import { World } from './world/world.ts';

/** The services the world stands on, chosen at boot (local or clustered). */
export interface Dependencies {
  readonly store: Store;
  readonly presence: Presence;
  readonly bus: Bus;
  readonly auth: Auth;
  /** Extra routes on the game port (e.g. account endpoints); true when handled. */
  readonly routes?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean | Promise<boolean>;
}

export interface RunningServer {
  readonly ports: { readonly game: number; readonly health: number; readonly metrics: number; readonly udp: number };
  readonly world: World;
  readonly metrics: ServerMetrics;
  readiness(): Readiness;
  /**
   * Readiness false at once, players told to reconnect, a final save; resolves when every player
   * has left or `graceMs` is nearly over, with everything closed.
   */
  drain(graceMs: number): Promise<void>;
  /** Closes everything now (after a final save). */
  close(): Promise<void>;
}

const DEPENDENCY_CHECK_MS = 5000;
const DEPENDENCY_TIMEOUT_MS = 2000;
const PRESENCE_REPORT_MS = 5000;

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function buildInfo(): Record<string, string> | undefined {
  try {
    return JSON.parse(readFileSync(new URL('../build-info.json', import.meta.url), 'utf8')) as Record<string, string>;
  } catch {
    return undefined; // only images carry one
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export async function startServer(config: Config, deps: Dependencies, log: Logger): Promise<RunningServer> {
  const { store, presence, bus, auth } = deps;
  const traffic = new Traffic();
  const metrics = createMetrics(traffic);
  const version = packageVersion();
  const build = buildInfo();
  metrics.maxPlayers.set(config.maxPlayers);
  metrics.draining.set(0);
  metrics.buildInfo.labels({ version, protocol: String(PROTOCOL_VERSION), node: process.version }).set(1);

  const world = new World(
    {
      zoneCount: config.zoneCount, zoneSize: config.zoneSize, zones: config.zones, interestRadius: config.interestRadius,
      tickRate: config.tickRate, patchRate: config.patchRate, maxPlayers: config.maxPlayers,
    },
    { traffic, publishGlobal: (m) => void bus.publish(m).catch((err: unknown) => log.warn('publishing global chat failed', { error: err })) },
  );
  const gateway = new Gateway({ world, auth, store, presence, bus, metrics, log, serverId: config.serverId, now: () => performance.now() });
  await bus.subscribe(config.serverId, (m) => gateway.receive(m));

  // Readiness: world loaded, every dependency answering, not draining.
  const depUp: Record<string, boolean> = { store: false, presence: false, bus: false };
  let worldLoaded = false;
  let draining = false;
  const checkDependencies = async (): Promise<void> => {
    const checks: Array<[string, () => Promise<void>]> = [
      ['store', () => store.ping()],
      ['presence', () => presence.ping()],
      ['bus', () => bus.ping()],
    ];
    await Promise.all(
      checks.map(async ([name, ping]) => {
        try {
          await withTimeout(ping(), DEPENDENCY_TIMEOUT_MS, name);
          if (!depUp[name]) log.info('dependency reachable', { dependency: name });
          depUp[name] = true;
        } catch (err) {
          if (depUp[name] !== false || !worldLoaded) log.warn('dependency unreachable', { dependency: name, error: err });
          depUp[name] = false;
        }
        metrics.dependencyUp.labels({ dependency: name }).set(depUp[name] ? 1 : 0);
      }),
    );
  };
  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (!worldLoaded) reasons.push('world not loaded');
    for (const [name, up] of Object.entries(depUp)) if (!up) reasons.push(`${name} unreachable`);
    if (draining) reasons.push('draining');
    return { ready: reasons.length === 0, reasons };
  };

  // Game port: demo page, guest tokens, WebSocket, WebRTC signaling.
  const game = createServer(createHttpHandler({ log, ...(deps.routes ? { routes: deps.routes } : {}) }));
  const ws = attachWebSocket(game, gateway);
  let udp: UdpTransport | undefined;
  if (config.udpEnabled) {
    const wildcard = config.host === '0.0.0.0' || config.host === '::';
    udp = attachUdp(game, gateway, {
      port: config.udpPort, bindAddress: wildcard ? undefined : config.host, announceAddress: config.udpAnnounceAddress, iceServers: config.iceServers,
    }, log);
  }
  const versionInfo: VersionInfo = { version, protocol: PROTOCOL_VERSION, node: process.version, serverId: config.serverId, ...(build ? { build } : {}) };
  const health = createHealthServer(readiness);
  const metricsServer = createMetricsServer(metrics.registry, versionInfo);
  const [gamePort, healthPort, metricsPort] = await Promise.all([
    listen(game, config.gamePort, config.host),
    listen(health, config.healthPort, config.host),
    listen(metricsServer, config.metricsPort, config.host),
  ]);

  // The simulation.
  const interval = 1000 / config.tickRate;
  const ticker = new Ticker({
    intervalMs: interval,
    step: (dt) => world.step(dt),
    now: () => performance.now(),
    onTick: (ms) => {
      metrics.tickDuration.observe(ms / 1000);
      if (ms > interval) metrics.tickOverruns.inc();
    },
  });
  ticker.start();
  worldLoaded = true;
  await checkDependencies();

  // Periodic jobs.
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void | Promise<void>): void => {
    const t = setInterval(() => void Promise.resolve(fn()).catch((err: unknown) => log.error('periodic job failed', { error: err })), ms);
    t.unref();
    timers.push(t);
  };
  every(DEPENDENCY_CHECK_MS, checkDependencies);
  const reportPlayers = (): void => {
    metrics.activePlayers.reset();
    for (const [zone, members] of world.zoneCounts()) {
      const byTransport = [0, 0];
      for (const p of members) byTransport[p.sink.transport]!++;
      TRANSPORTS.forEach((t, i) => metrics.activePlayers.labels({ zone: String(zone), transport: t }).set(byTransport[i]!));
    }
  };
  reportPlayers();
  every(1000, reportPlayers);
  const reportPresence = async (): Promise<void> => {
    const byZone: Record<string, number> = {};
    for (const [zone, members] of world.zoneCounts()) byZone[String(zone)] = members.length;
    await presence.reportOnline(config.serverId, byZone, PRESENCE_REPORT_MS * 3);
    await presence.claimZones(config.serverId, config.zones, PRESENCE_REPORT_MS * 3);
  };
  await reportPresence().catch((err: unknown) => log.warn('presence report failed', { error: err }));
  every(PRESENCE_REPORT_MS, reportPresence);
  const save = async (): Promise<void> => {
    const states = world.takeChanged();
    if (states.length === 0) return;
    const started = performance.now();
    await store.saveCharacters(states);
    metrics.storeSaveDuration.labels({ kind: 'batch' }).observe((performance.now() - started) / 1000);
  };
  every(config.saveIntervalSeconds * 1000, save);

  log.info('listening', {
    serverId: config.serverId, game: gamePort, health: healthPort, metrics: metricsPort,
    udp: config.udpEnabled ? config.udpPort : null, zones: config.zones, tickRate: config.tickRate, patchRate: config.patchRate,
  });

  let closing: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    ticker.stop();
    for (const t of timers) clearInterval(t);
    await save().catch((err: unknown) => log.error('final save failed', { error: err }));
    for (const s of [...gateway.sessions]) s.closed('server closing');
    await ws.close();
    await udp?.close();
    await Promise.all([closeServer(game), closeServer(health), closeServer(metricsServer)]);
  };
  const close = (): Promise<void> => (closing ??= shutdown());

  return {
    ports: { game: gamePort, health: healthPort, metrics: metricsPort, udp: config.udpPort },
    world,
    metrics,
    readiness,
    close,
    async drain(graceMs) {
      if (draining) return closing ?? Promise.resolve();
      draining = true;
      metrics.draining.set(1);
      const spread = Math.min(2000, graceMs / 2);
      log.info('draining', { players: world.population, graceMs });
      gateway.drain(spread);
      await save().catch((err: unknown) => log.error('drain save failed', { error: err }));
      const deadline = performance.now() + Math.max(0, graceMs - 1000);
      while (gateway.sessions.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      log.info('drained', { remaining: gateway.sessions.size });
      await close();
    },
  };
}
