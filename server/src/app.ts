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
import { createAdminHandler } from './ops/admin.ts';
import { dependencyHealth, type DependencyHealth, type DependencyName } from './ops/health.ts';
import { createMetrics, type ServerMetrics } from './ops/metrics.ts';
import { createHealthServer, createMetricsServer, type Readiness, type VersionInfo } from './ops/server.ts';
import type { Presence } from './presence/presence.ts';
import { PROTOCOL_VERSION } from '../../protocol/codec.ts';
import { CharacterSaves } from './saves.ts';
import type { Store } from './store/store.ts';
import { withTimeout } from './timeout.ts';
import { Gateway } from './gateway/gateway.ts';
import { createHttpHandler } from './transports/http.ts';
import { attachUdp, type UdpTransport } from './transports/udp.ts';
import { attachWebSocket } from './transports/ws.ts';
import { Ticker } from './world/tick.ts';
import { TRANSPORTS } from '../../contract/ports.ts';
import { Traffic } from './world/traffic.ts';
import { World } from './world/world.ts';

/**
 * What a game server stands on, chosen at boot (local or clustered): `connectDependencies` makes
 * them from the configuration; tests may assemble their own.
 */
export interface ServerDependencies {
  readonly store: Store;
  readonly presence: Presence;
  readonly bus: Bus;
  readonly auth: Auth;
  /** Extra routes on the game port (e.g. account endpoints); true when handled. */
  readonly routes?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean | Promise<boolean>;
  /**
   * Probes of store, presence and bus (connectDependencies makes one that re-probes as soon as a
   * client sees its connection drop). Without it the server probes with its own.
   */
  readonly health?: DependencyHealth;
}

export interface RunningServer {
  readonly ports: { readonly game: number; readonly health: number; readonly metrics: number; readonly udp: number };
  /** How players reach this process (MMO_PUBLIC_URL, or derived from the bound game port). */
  readonly publicUrl: string;
  /** The character save queue (tests read its backlog). */
  readonly saves: CharacterSaves;
  readonly world: World;
  readonly metrics: ServerMetrics;
  readiness(): Readiness;
  /**
   * Readiness false at once, players told to reconnect, a final save; resolves when every player
   * has left or `graceMs` is nearly over, with everything closed.
   */
  drain(graceMs: number): Promise<void>;
  /** Closes everything now: players out, their final states saved (within `budgetMs`, default 5 s). */
  close(budgetMs?: number): Promise<void>;
}

const PRESENCE_REPORT_MS = 5000;
/** Time a drain keeps for closing connections and the final save after players had their chance. */
const FINAL_SAVE_RESERVE_MS = 1500;

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

export async function startServer(config: Config, deps: ServerDependencies, log: Logger): Promise<RunningServer> {
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
      tickRate: config.tickRate, patchRate: config.patchRate, maxPlayers: config.maxPlayers, sendProfile: config.sendProfile,
    },
    { traffic, publishGlobal: (m) => void bus.publish(m).catch((err: unknown) => log.warn('publishing global chat failed', { error: err })) },
  );
  const saves = new CharacterSaves(
    store,
    {
      observe: (kind, seconds) => metrics.storeSaveDuration.labels({ kind }).observe(seconds),
      failed: (kind, count) => metrics.storeSaveFailures.labels({ kind }).inc(count),
    },
    log,
  );
  // The simulation's clock (started once everything listens).
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
  const gateway = new Gateway({
    world, auth, store, presence, bus, metrics, log, serverId: config.serverId, saves, now: () => performance.now(),
    msToNextTick: () => ticker.msToNextTick(),
  });
  await bus.subscribe(config.serverId, (m) => gateway.receive(m));

  // Readiness: world loaded, every dependency answering, not draining. Each dependency going down
  // or coming back is logged once (by whoever made the probes), never per probe.
  const health = deps.health ?? dependencyHealth({ store, presence, bus }, log);
  const dependencyUp = (name: DependencyName): boolean => health.snapshot()[name].up;
  let worldLoaded = false;
  let draining = false;
  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (!worldLoaded) reasons.push('world not loaded');
    for (const [name, status] of Object.entries(health.snapshot())) if (!status.up) reasons.push(`${name} unreachable`);
    if (draining) reasons.push('draining');
    return { ready: reasons.length === 0, reasons };
  };
  const reportHealth = (): void => {
    for (const [name, status] of Object.entries(health.snapshot())) metrics.dependencyUp.labels({ dependency: name }).set(status.up ? 1 : 0);
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
  const healthServer = createHealthServer(readiness);
  const metricsServer = createMetricsServer(metrics.registry, versionInfo, createAdminHandler({ token: config.adminToken, bus, presence }));
  const [gamePort, healthPort, metricsPort] = await Promise.all([
    listen(game, config.gamePort, config.host),
    listen(healthServer, config.healthPort, config.host),
    listen(metricsServer, config.metricsPort, config.host),
  ]);
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const publicUrl = config.publicUrl ?? `http://${wildcard ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host}:${gamePort}`;

  // The simulation.
  ticker.start();
  worldLoaded = true;
  await health.check();
  health.start();
  reportHealth();

  // Periodic jobs.
  const timers: NodeJS.Timeout[] = [];
  // A run still waiting on a slow dependency when the next is due makes that tick skip: runs of one
  // job never overlap (two presence reports or reclaims racing each other).
  const every = (ms: number, fn: () => void | Promise<void>): void => {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      void Promise.resolve()
        .then(fn)
        .catch((err: unknown) => log.error('periodic job failed', { error: err }))
        .finally(() => {
          running = false;
        });
    }, ms);
    t.unref();
    timers.push(t);
  };
  const reportPlayers = (): void => {
    reportHealth();
    metrics.activePlayers.reset();
    for (const [zone, members] of world.zoneCounts()) {
      const byTransport = [0, 0];
      for (const p of members) byTransport[p.sink.transport]!++;
      TRANSPORTS.forEach((t, i) => metrics.activePlayers.labels({ zone: String(zone), transport: t }).set(byTransport[i]!));
    }
  };
  reportPlayers();
  every(1000, reportPlayers);
  // Online counts, zone ownership and this process's address, refreshed well within their TTL. A
  // draining process stops claiming its zones, so peers stop sending players here.
  // After an outage Presence may have lost everything (Redis without persistence): the sessions of
  // players still here are claimed again, so one-session-per-account holds for them too.
  let reclaim = false;
  const reportPresence = async (): Promise<void> => {
    const byZone: Record<string, number> = {};
    for (const [zone, members] of world.zoneCounts()) byZone[String(zone)] = members.length;
    const ttl = PRESENCE_REPORT_MS * 3;
    try {
      await presence.reportOnline(config.serverId, byZone, ttl);
      await presence.advertise(config.serverId, publicUrl, ttl);
      if (!draining) await presence.claimZones(config.serverId, config.zones, ttl);
      if (reclaim) {
        reclaim = false;
        log.info('presence is back: sessions claimed again', { sessions: await gateway.reclaimSessions() });
      }
    } catch (err) {
      reclaim = true;
      // An outage is reported once by the health probes; this job just tries again next time.
      if (dependencyUp('presence')) log.warn('presence report failed', { error: err });
    }
  };
  await reportPresence();
  every(PRESENCE_REPORT_MS, reportPresence);
  const save = (kind: 'batch' | 'drain'): Promise<void> => saves.flush(world.takeChanged(), kind);
  every(config.saveIntervalSeconds * 1000, () => save('batch'));

  log.info('listening', {
    serverId: config.serverId, game: gamePort, health: healthPort, metrics: metricsPort, publicUrl,
    udp: config.udpEnabled ? config.udpPort : null, zones: config.zones, tickRate: config.tickRate, patchRate: config.patchRate, sendProfile: config.sendProfile,
  });

  let closing: Promise<void> | undefined;
  const shutdown = async (budgetMs: number): Promise<void> => {
    const deadline = performance.now() + budgetMs;
    ticker.stop();
    for (const t of timers) clearInterval(t);
    health.stop();
    // Everyone still here leaves the world now; their final states join one last batch.
    for (const s of [...gateway.sessions]) s.closed('server closing');
    const saveBudget = Math.max(0, deadline - performance.now());
    await withTimeout(save('drain'), saveBudget, `the final save did not answer within ${Math.round(saveBudget)} ms`).catch((err: unknown) => log.error('final save did not finish', { error: err }));
    if (saves.backlog > 0) log.error('characters left unsaved at exit', { characters: saves.backlog });
    await ws.close();
    await udp?.close();
    await Promise.all([closeServer(game), closeServer(healthServer), closeServer(metricsServer)]);
  };
  const close = (budgetMs = 5000): Promise<void> => (closing ??= shutdown(budgetMs));

  return {
    ports: { game: gamePort, health: healthPort, metrics: metricsPort, udp: config.udpPort },
    publicUrl,
    saves,
    world,
    metrics,
    readiness,
    close,
    async drain(graceMs) {
      if (draining) return closing ?? Promise.resolve();
      const started = performance.now();
      draining = true;
      metrics.draining.set(1);
      const spread = Math.min(2000, graceMs / 4);
      log.info('draining', { players: world.population, graceMs });
      gateway.drain(spread);
      // Save now, so players reconnecting elsewhere load fresh rows even before their logout save.
      await save('drain');
      const deadline = started + Math.max(0, graceMs - FINAL_SAVE_RESERVE_MS);
      while (gateway.sessions.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Logout saves of the players who left are committing: wait for them within the budget.
      await withTimeout(saves.idle(), Math.max(0, deadline - performance.now()), 'logout saves did not finish').catch(() => {});
      log.info('drained', { remaining: gateway.sessions.size, ms: Math.round(performance.now() - started) });
      await close(Math.max(250, started + graceMs - 600 - performance.now()));
    },
  };
}
