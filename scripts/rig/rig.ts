/**
 * The Kubernetes test rig: a real control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) on loopback, with kwok faking three nodes and what their kubelets, a cloud load
 * balancer and a volume provisioner would report. No container runs.
 *
 * A *live* rig (`live: true`, needs root) also runs pods labelled `mmo.dev/rig-run=process` as
 * processes of this checkout in network namespaces on its own bridge (scripts/rig/live/), with a
 * real Prometheus whose scrape configuration comes from the cluster's ServiceMonitors. Its state
 * lives in `<checkout>/.tmp/rig-live`, beside the plain rig's.
 *
 * Each checkout has its own rig: state (PKI, etcd data, logs, kubeconfigs, the PIDs it started) lives
 * in `<checkout>/.tmp/rig` (override: `stateDir` or MMOCTL_RIG_DIR), ports are picked free at `up`
 * time, and `down` stops exactly the processes whose PID *and* start time it recorded. The binaries
 * come from the shared build cache (see build.ts).
 *
 * Callers may rely on:
 * - `up()` is idempotent: a healthy rig of this checkout is reused; a broken one is stopped and
 *   started again. When it returns, /readyz is ok, three nodes are Ready, the default StorageClass
 *   exists and the `default` namespace's ServiceAccount is there.
 * - `up`, `down` and `status` of one checkout are serialized by a lock; different checkouts run freely.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { withLock } from '../lib/lock.ts';
import { freeTcpPort } from '../lib/ports.ts';
import { PROJECT_ROOT } from '../lib/root.ts';
import { ensureRigBinaries, type RigBinaries } from './build.ts';
import { bootstrap, PROMETHEUS_USER, RESTRICTED_NAMESPACE, RIG_NODES } from './cluster.ts';
import { certKubeconfig, kubeconfigFiles, writeRestrictedKubeconfig } from './kubeconfig.ts';
import { liveInfo, liveProblems, PROMETHEUS_BIN, reclaimAbandoned, tearDownLive, type LiveRigInfo } from './live/live.ts';
import { KUBELET_PORT } from './live/logs.ts';
import { portmapChainsPresent, setUpNetwork, SERVICE_CIDR } from './live/network.ts';
import { discoveryFor, renderConfig } from './live/prometheus-operator.ts';
import { liveFiles, type LiveState } from './live/state.ts';
import { createPki, pemData } from './pki.ts';
import { logTail, readState, startProcess, stopProcesses, writeState, type Component, type StateFile, type Started } from './processes.ts';
import { apiGet, collectStatus, countReadyNodes, describe, type RigStatus } from './status.ts';

export interface RigOptions {
  /** Where this checkout's rig keeps its state (default `$MMOCTL_RIG_DIR` or `<checkout>/.tmp/rig`). */
  readonly stateDir?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** How long `up` waits for the rig to become ready once the binaries exist (default 120 s). */
  readonly readyTimeoutMs?: number;
  /**
   * A live rig: pods labelled `mmo.dev/rig-run=process` run as processes, with a pod network and
   * Prometheus (needs root; see docs/testing.md). Its own state directory (default
   * `$MMOCTL_RIG_LIVE_DIR` or `<checkout>/.tmp/rig-live`), so a plain and a live rig can run side by side.
   */
  readonly live?: boolean;
}

/** What a running rig offers to tests and tools. */
export interface RigInfo {
  readonly stateDir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig (system:masters). */
  readonly kubeconfig: string;
  /** Kubeconfig of a ServiceAccount bound to a Role in RESTRICTED_NAMESPACE only. */
  readonly restrictedKubeconfig: string;
  readonly restrictedNamespace: string;
  readonly versions: StateFile['versions'];
  readonly pids: Record<Component, number>;
  /** True when `up` found this rig already running and healthy. */
  readonly reused: boolean;
  /** Milliseconds from start of `up` to ready (0 when reused). */
  readonly upMs: number;
  /** A live rig's pod network, data services for pods and Prometheus; absent on a plain rig. */
  readonly live?: LiveRigInfo;
}

/** The state directory of this checkout's rig (its live rig with `live`). */
export function rigStateDir(opts: RigOptions = {}): string {
  const fromEnv = opts.live ? process.env.MMOCTL_RIG_LIVE_DIR : process.env.MMOCTL_RIG_DIR;
  return resolve(opts.stateDir ?? fromEnv ?? join(PROJECT_ROOT, '.tmp', opts.live ? 'rig-live' : 'rig'));
}

/** Paths of the kubeconfigs `up` writes (they exist only while the rig is up). */
export function kubeconfigPaths(opts: RigOptions = {}): { admin: string; restricted: string } {
  return kubeconfigFiles(rigStateDir(opts));
}

const lockFile = (stateDir: string) => `${stateDir}.lock`;

/** Starts the rig (building the binaries on first use) or reuses this checkout's healthy one. */
export async function up(opts: RigOptions = {}): Promise<RigInfo> {
  const stateDir = rigStateDir(opts);
  const log = opts.log ?? (() => {});
  const live = opts.live ?? false;
  if (live) {
    const problems = liveProblems();
    if (problems.length) throw new Error(`the live rig cannot start on this machine:\n- ${problems.join('\n- ')}`);
  }
  const bins = await ensureRigBinaries({ log });
  return withLock(lockFile(stateDir), { purpose: `rig up in ${stateDir}`, onWait: (h) => log(`waiting for ${h}`) }, async () => {
    const existing = await readState(stateDir);
    const recipe = rigRecipe(bins, live);
    if (existing) {
      const st = await collectStatus(stateDir, existing);
      const healthy = st.state === 'running' && st.nodesReady === RIG_NODES.length;
      if (healthy && existing.recipe === recipe) {
        // A kept rig may outlive the restricted token (7 days): hand out a fresh one on every reuse.
        const files = kubeconfigFiles(stateDir);
        const kc = new k8s.KubeConfig();
        kc.loadFromFile(files.admin);
        await writeRestrictedKubeconfig(kc, files.restricted, existing.server, await pemData(join(stateDir, 'pki', 'ca.crt')));
        return info(stateDir, existing, true, 0);
      }
      log(healthy
        ? `the running rig in ${stateDir} was started with other flags, Stages or binaries; restarting it`
        : `the rig in ${stateDir} is not healthy (${describe(st)}); restarting it`);
      await stopRig(stateDir, existing, log);
    } else if (existsSync(stateDir)) {
      await rm(stateDir, { recursive: true, force: true });
    }
    let lastErr: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        return await start(stateDir, bins, log, opts.readyTimeoutMs ?? 120_000, live);
      } catch (err) {
        lastErr = err;
        const st = await readState(stateDir);
        if (st) await stopRig(stateDir, st, log);
        // Another checkout may have taken a port between our probe and the bind: pick new ones.
        if (!(err instanceof PortTakenError)) throw err;
        log(`a port was taken by someone else (${err.message}); retrying with new ports`);
      }
    }
    throw lastErr;
  });
}

/**
 * Stops exactly the processes this checkout's rig started, undoes what a live rig set up on the
 * machine (pod sandboxes, routes, bridge), and removes its state. Returns what was stopped.
 */
export async function down(opts: RigOptions = {}): Promise<string[]> {
  const stateDir = rigStateDir(opts);
  return withLock(lockFile(stateDir), { purpose: `rig down in ${stateDir}` }, async () => {
    const state = await readState(stateDir);
    const stopped = state ? await stopRig(stateDir, state, opts.log) : [];
    await rm(stateDir, { recursive: true, force: true });
    return stopped;
  });
}

/** Stops the rig's processes, then (live) tears down its pods' sandboxes, routes and bridge. */
async function stopRig(stateDir: string, state: StateFile, log: (line: string) => void = () => {}): Promise<string[]> {
  const stopped = await stopProcesses(stateDir, state);
  if (state.live) {
    await tearDownLive(stateDir, state.live.plan, state.live, log);
    stopped.push(`the live network (${state.live.plan.bridge}, ${state.live.plan.podCidr}, ${state.live.plan.blackholes.length} blackhole routes)`);
  }
  return stopped;
}

/** Reports whether this checkout's rig runs, per component with resident memory. */
export async function status(opts: RigOptions = {}): Promise<RigStatus> {
  const stateDir = rigStateDir(opts);
  const state = await readState(stateDir);
  if (!state) return { stateDir, state: 'down', components: [], totalRssKiB: 0 };
  return collectStatus(stateDir, state);
}

// ---------------------------------------------------------------------------------------------------

class PortTakenError extends Error {}

/** The files that decide how a rig starts: every flag (here), its processes, its nodes, kwok's Stages. */
const RECIPE_FILES = ['rig.ts', 'processes.ts', 'cluster.ts', 'kwok.yaml'];
/** …and for a live rig, everything its kubelet, network and Prometheus do. */
const LIVE_RECIPE_DIRS = ['live', 'live/faults'];

/**
 * A rig kept running between test runs must not outlive a change to how it is started: `up`
 * restarts it when this hash of RECIPE_FILES (and the live rig's files) and the binary versions differs.
 */
function rigRecipe(bins: RigBinaries, live: boolean): string {
  const h = createHash('sha256');
  const liveFilesOf = (dir: string) => readdirSync(join(import.meta.dirname, dir)).filter((f) => f.endsWith('.ts')).sort().map((f) => join(dir, f));
  const files = [...RECIPE_FILES, ...(live ? LIVE_RECIPE_DIRS.flatMap(liveFilesOf) : [])];
  for (const file of files) h.update(readFileSync(join(import.meta.dirname, file)));
  h.update(JSON.stringify({ versions: bins.manifest.versions, live }));
  return h.digest('hex').slice(0, 16);
}

function info(stateDir: string, state: StateFile, reused: boolean, upMs: number): RigInfo {
  const paths = kubeconfigFiles(stateDir);
  return {
    stateDir,
    server: state.server,
    kubeconfig: paths.admin,
    restrictedKubeconfig: paths.restricted,
    restrictedNamespace: RESTRICTED_NAMESPACE,
    versions: state.versions,
    pids: Object.fromEntries(state.processes.map((p) => [p.name, p.pid])) as Record<Component, number>,
    reused,
    upMs,
    ...(state.live ? { live: liveInfo(stateDir, state.live) } : {}),
  };
}

async function start(stateDir: string, bins: RigBinaries, log: (l: string) => void, readyTimeoutMs: number, live: boolean): Promise<RigInfo> {
  const t0 = Date.now();
  await rm(stateDir, { recursive: true, force: true });
  const logDir = join(stateDir, 'logs');
  const kcDir = join(stateDir, 'kubeconfig');
  const files = kubeconfigFiles(stateDir);
  await Promise.all([mkdir(logDir, { recursive: true }), mkdir(kcDir, { recursive: true })]);

  const ports: { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number; scheduler: number; prometheus?: number } = {
    etcdClient: await freeTcpPort(),
    etcdPeer: await freeTcpPort(),
    apiserver: await freeTcpPort(),
    controllerManager: await freeTcpPort(),
    scheduler: await freeTcpPort(),
    ...(live ? { prometheus: await freeTcpPort() } : {}),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const state: StateFile = {
    format: 1, server, ports, processes: [], versions: bins.manifest.versions, startedAt: new Date().toISOString(), recipe: rigRecipe(bins, live),
  };
  // The live network comes first, checked before anything could connect to a pod address, and is
  // recorded at once so that `down` undoes it whatever fails later.
  let liveState: LiveState | undefined;
  if (live) {
    await reclaimAbandoned(stateDir, log);
    // `down` leaves the machine as `up` found it: the portmap plugin's chains too, if they were there.
    const portmapChainsBefore = await portmapChainsPresent();
    const plan = await setUpNetwork(stateDir, log);
    liveState = { plan, apiServerInPod: { host: plan.hostAddress, port: 443 }, prometheusPort: ports.prometheus!, portmapChainsBefore };
    state.live = liveState;
    await writeState(stateDir, state);
  }

  const pki = await createPki(
    join(stateDir, 'pki'),
    [
      { file: 'admin', user: 'mmoctl-rig-admin', groups: ['system:masters'] },
      { file: 'controller-manager', user: 'system:kube-controller-manager' },
      { file: 'scheduler', user: 'system:kube-scheduler' },
      // kwok writes status for nodes, pods, services and volumes and creates PVs: cluster-wide writes.
      { file: 'kwok', user: 'kwok-controller', groups: ['system:masters'] },
      ...(liveState
        ? [
            // The live kubelet reads Secrets and ConfigMaps of any namespace, writes pod status and events, requests tokens.
            { file: 'kubelet', user: 'mmoctl-rig-kubelet', groups: ['system:masters'] },
            { file: 'apiserver-kubelet-client', user: 'kube-apiserver-kubelet-client' },
            { file: 'prometheus', user: PROMETHEUS_USER },
          ]
        : []),
    ],
    liveState
      ? { apiServerIPs: [liveState.plan.hostAddress], serving: [{ file: 'kubelet-serving', cn: 'mmoctl-rig-kubelet', ips: liveState.plan.nodes.map((n) => n.internalIP) }] }
      : {},
  );
  await Promise.all([
    certKubeconfig(files.admin, server, pki, 'admin'),
    certKubeconfig(join(kcDir, 'controller-manager'), server, pki, 'controller-manager'),
    certKubeconfig(join(kcDir, 'scheduler'), server, pki, 'scheduler'),
    certKubeconfig(join(kcDir, 'kwok'), server, pki, 'kwok'),
    ...(liveState ? [certKubeconfig(liveFiles(stateDir).kubeletKubeconfig, server, pki, 'kubelet')] : []),
  ]);

  const watched: Started[] = [];
  const launch = async (name: Component, args: string[], bin: string = bins.paths[name as keyof RigBinaries['paths']]): Promise<void> => {
    const s = await startProcess(name, bin, args, logDir);
    watched.push(s);
    state.processes.push(s.record);
    await writeState(stateDir, state); // record every PID at once, so `down` can stop a half-started rig
  };
  // Fails fast if a process dies while we wait, with the end of its log.
  const failIfExited = async (): Promise<void> => {
    for (const w of watched) {
      const code = await Promise.race([w.exited, Promise.resolve('running' as const)]);
      if (code === 'running') continue;
      const tail = logTail(w.logFile);
      const msg = `${w.record.name} exited (code ${code}) while the rig was starting. Last lines of ${w.logFile}:\n${tail}`;
      if (/address already in use/i.test(tail)) throw new PortTakenError(msg);
      throw new Error(msg);
    }
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = t0 + readyTimeoutMs;
    let last = '';
    for (;;) {
      await failIfExited();
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`the rig did not become ready: timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}. Logs: ${logDir}`);
      await sleep(200);
    }
  };

  const localhost = '127.0.0.1';
  const etcdClient = `http://${localhost}:${ports.etcdClient}`;
  const etcdPeer = `http://${localhost}:${ports.etcdPeer}`;
  await launch('etcd', [
    '--name=rig', `--data-dir=${join(stateDir, 'etcd')}`,
    `--listen-client-urls=${etcdClient}`, `--advertise-client-urls=${etcdClient}`,
    `--listen-peer-urls=${etcdPeer}`, `--initial-advertise-peer-urls=${etcdPeer}`, `--initial-cluster=rig=${etcdPeer}`,
    // A throwaway test store: skipping fsync makes every write cheap.
    '--unsafe-no-fsync=true', '--log-level=warn', '--quota-backend-bytes=2147483648',
  ]);
  await waitFor('etcd', async () => {
    const r = await fetch(`${etcdClient}/health`);
    return r.ok ? true : undefined;
  });

  const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';
  await launch('kube-apiserver', [
    `--etcd-servers=${etcdClient}`,
    `--bind-address=${localhost}`, `--advertise-address=${localhost}`, `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=${serviceAccountIssuer}`, `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction,PodSecurity',
    // Privileged pods are allowed by the server, so that Pod Security admission is what refuses them.
    '--allow-privileged=true',
    // The `kubernetes` Service would point at 127.0.0.1, which Endpoints validation refuses.
    '--endpoint-reconciler-type=none',
    '--profiling=false', '--enable-priority-and-fairness=false', '--event-ttl=1h',
    // Logs of process pods: the live kubelet's API on each node's InternalIP (on the rig's bridge).
    ...(liveState
      ? ['--kubelet-preferred-address-types=InternalIP', `--kubelet-certificate-authority=${pki.caCert}`,
          `--kubelet-client-certificate=${pki.clients['apiserver-kubelet-client']!.cert}`, `--kubelet-client-key=${pki.clients['apiserver-kubelet-client']!.key}`]
      : []),
  ]);

  const tls = { ca: await readFile(pki.caCert), cert: await readFile(pki.clients.admin!.cert), key: await readFile(pki.clients.admin!.key) };
  // kwok waits for the API server by itself: starting it now overlaps its start-up.
  await launch('kwok', [
    `--kubeconfig=${join(kcDir, 'kwok')}`,
    `--config=${join(import.meta.dirname, 'kwok.yaml')}`,
    '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--node-lease-duration-seconds=40',
  ]);

  await waitFor('kube-apiserver /readyz', async () => ((await apiGet(server, '/readyz', tls)).code === 200 ? true : undefined));
  log(`kube-apiserver ready after ${((Date.now() - t0) / 1000).toFixed(1)}s; creating nodes and access`);
  // kube-controller-manager and kube-scheduler exit if RBAC's bootstrap roles are not there yet, so
  // they start once /readyz is ok (it includes that post-start hook).
  const common = (port: number, kc: string) => [
    `--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`,
    `--bind-address=${localhost}`, `--secure-port=${port}`, '--leader-elect=false',
    '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
    '--kube-api-qps=200', '--kube-api-burst=400',
  ];
  await launch('kube-controller-manager', [
    ...common(ports.controllerManager, join(kcDir, 'controller-manager')),
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
    '--node-monitor-grace-period=40s',
    // Finished pods are cleaned up sooner than the default 12,500, keeping long test runs light.
    '--terminated-pod-gc-threshold=500',
  ]);
  await launch('kube-scheduler', common(ports.scheduler, join(kcDir, 'scheduler')));
  if (liveState) await launchLive(stateDir, state, liveState, launch);

  const kc = new k8s.KubeConfig();
  kc.loadFromFile(files.admin);
  await bootstrap(kc, liveState ? { nodes: liveState.plan.nodes, kubeletPort: KUBELET_PORT } : undefined);

  await waitFor(`${RIG_NODES.length} Ready nodes`, async () => ((await countReadyNodes(server, tls)) === RIG_NODES.length ? true : undefined));
  await waitFor('the default ServiceAccount', async () => ((await apiGet(server, '/api/v1/namespaces/default/serviceaccounts/default', tls)).code === 200 ? true : undefined));
  await writeRestrictedKubeconfig(kc, files.restricted, server, await pemData(pki.caCert));
  if (liveState) {
    const ready = join(stateDir, 'kubelet.ready');
    await waitFor('the live kubelet', async () => (existsSync(ready) ? true : undefined));
    await waitFor('Prometheus /-/ready', async () => ((await fetch(`http://127.0.0.1:${liveState.prometheusPort}/-/ready`)).ok ? true : undefined));
  }

  const upMs = Date.now() - t0;
  state.ready = { atMs: upMs };
  await writeState(stateDir, state);
  log(`rig ready in ${(upMs / 1000).toFixed(1)}s: ${server} (KUBECONFIG=${files.admin})`);
  return info(stateDir, state, false, upMs);
}


/**
 * A live rig's own processes: its kubelet (process pods, their logs, the forwarders on the bridge),
 * Debian's Prometheus on loopback, and the operator that derives Prometheus' scrape configuration
 * from the cluster's ServiceMonitors. They start once the API server answers.
 */
async function launchLive(stateDir: string, state: StateFile, live: LiveState, launch: (name: Component, args: string[], bin: string) => Promise<void>): Promise<void> {
  const files = liveFiles(stateDir);
  await mkdir(join(files.prometheusDir, 'data'), { recursive: true });
  // Until the operator has read the ServiceMonitors: no scrape jobs.
  await writeFile(files.prometheusConfig, renderConfig([], discoveryFor(stateDir)).yaml);
  await launch('kubelet', [join(import.meta.dirname, 'live', 'kubelet.ts'), stateDir], process.execPath);
  await launch('prometheus', [
    `--config.file=${files.prometheusConfig}`,
    `--storage.tsdb.path=${join(files.prometheusDir, 'data')}`,
    `--web.listen-address=127.0.0.1:${live.prometheusPort}`,
    // The operator asks for a reload with POST /-/reload whenever the configuration changes.
    '--web.enable-lifecycle',
    '--storage.tsdb.retention.time=6h',
    '--log.level=warn',
  ], PROMETHEUS_BIN);
  await launch('prometheus-operator', [join(import.meta.dirname, 'live', 'prometheus-operator.ts'), stateDir], process.execPath);
}
