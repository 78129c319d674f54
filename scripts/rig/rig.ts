/**
 * The Kubernetes test rig: a real control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) on loopback, with kwok faking three nodes and what their kubelets, a cloud load
 * balancer and a volume provisioner would report. No container runs.
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
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ensureRigBinaries, type RigBinaries, type RigBinary } from './build.ts';
import { withLock } from '../lib/lock.ts';
import { freeTcpPort } from '../lib/ports.ts';
import { PROJECT_ROOT } from '../lib/root.ts';
import { createPki, pemData, type Pki } from './pki.ts';


/** The namespace the restricted kubeconfig may use, and nothing outside it. */
export const RESTRICTED_NAMESPACE = 'rig-tenant';
/** The ServiceAccount behind the restricted kubeconfig. */
export const RESTRICTED_USER = 'tenant';
/** The default StorageClass; its provisioner is a kwok Stage. */
export const STORAGE_CLASS = 'standard';

/** The fake nodes: name, zone, and the addresses their status reports (documentation ranges, never routed). */
export const RIG_NODES = [
  { name: 'rig-node-a', zone: 'zone-a', internalIP: '10.0.0.11', externalIP: '203.0.113.11' },
  { name: 'rig-node-b', zone: 'zone-b', internalIP: '10.0.0.12', externalIP: '203.0.113.12' },
  { name: 'rig-node-c', zone: 'zone-c', internalIP: '10.0.0.13', externalIP: '203.0.113.13' },
] as const;
/** Allocatable (= capacity) of every fake node. */
export const NODE_ALLOCATABLE = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' } as const;

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const satisfies readonly RigBinary[];
type Component = (typeof COMPONENTS)[number];

/** One process the rig started; `startTicks` (from /proc) tells a reused PID from ours. */
interface ProcessRecord {
  readonly name: Component;
  readonly pid: number;
  readonly startTicks: number;
  readonly exe: string;
}

interface StateFile {
  readonly format: 1;
  readonly server: string;
  readonly ports: Record<string, number>;
  readonly processes: ProcessRecord[];
  readonly versions: RigBinaries['manifest']['versions'];
  readonly startedAt: string;
  /** Hash of what decides the rig's behaviour (this file, kwok.yaml, binary versions): see rigRecipe(). */
  readonly recipe: string;
  ready?: { readonly atMs: number };
}

export interface RigOptions {
  /** Where this checkout's rig keeps its state (default `$MMOCTL_RIG_DIR` or `<checkout>/.tmp/rig`). */
  readonly stateDir?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** How long `up` waits for the rig to become ready once the binaries exist (default 120 s). */
  readonly readyTimeoutMs?: number;
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
}

export interface ComponentStatus {
  readonly name: Component;
  readonly pid: number;
  readonly running: boolean;
  /** Resident memory in KiB (0 when not running). */
  readonly rssKiB: number;
}

export interface RigStatus {
  readonly stateDir: string;
  /** `running`: every process alive and /readyz ok; `broken`: some state but not healthy; `down`: none. */
  readonly state: 'running' | 'broken' | 'down';
  readonly server?: string;
  readonly kubeconfig?: string;
  readonly restrictedKubeconfig?: string;
  readonly components: ComponentStatus[];
  readonly readyz?: string;
  readonly nodesReady?: number;
  readonly totalRssKiB: number;
}

/** The state directory of this checkout's rig. */
export function rigStateDir(opts: RigOptions = {}): string {
  return resolve(opts.stateDir ?? process.env.MMOCTL_RIG_DIR ?? join(PROJECT_ROOT, '.tmp', 'rig'));
}

/** Paths of the kubeconfigs `up` writes (they exist only while the rig is up). */
export function kubeconfigPaths(opts: RigOptions = {}): { admin: string; restricted: string } {
  const dir = rigStateDir(opts);
  return { admin: join(dir, 'admin.kubeconfig'), restricted: join(dir, 'restricted.kubeconfig') };
}

const lockFile = (stateDir: string) => `${stateDir}.lock`;

/** Starts the rig (building the binaries on first use) or reuses this checkout's healthy one. */
export async function up(opts: RigOptions = {}): Promise<RigInfo> {
  const stateDir = rigStateDir(opts);
  const log = opts.log ?? (() => {});
  const bins = await ensureRigBinaries({ log });
  return withLock(lockFile(stateDir), { purpose: `rig up in ${stateDir}`, onWait: (h) => log(`waiting for ${h}`) }, async () => {
    const existing = await readState(stateDir);
    const recipe = rigRecipe(bins);
    if (existing) {
      const st = await collectStatus(stateDir, existing);
      const healthy = st.state === 'running' && st.nodesReady === RIG_NODES.length;
      if (healthy && existing.recipe === recipe) {
        // A kept rig may outlive the restricted token (7 days): hand out a fresh one on every reuse.
        const kc = new k8s.KubeConfig();
        kc.loadFromFile(join(stateDir, 'admin.kubeconfig'));
        await writeRestrictedKubeconfig(kc, join(stateDir, 'restricted.kubeconfig'), existing.server, await pemData(join(stateDir, 'pki', 'ca.crt')));
        return info(stateDir, existing, true, 0);
      }
      log(healthy
        ? `the running rig in ${stateDir} was started with other flags, Stages or binaries; restarting it`
        : `the rig in ${stateDir} is not healthy (${describe(st)}); restarting it`);
      await stop(stateDir, existing);
    } else if (existsSync(stateDir)) {
      await rm(stateDir, { recursive: true, force: true });
    }
    let lastErr: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        return await start(stateDir, bins, log, opts.readyTimeoutMs ?? 120_000);
      } catch (err) {
        lastErr = err;
        const st = await readState(stateDir);
        if (st) await stop(stateDir, st);
        // Another checkout may have taken a port between our probe and the bind: pick new ones.
        if (!(err instanceof PortTakenError)) throw err;
        log(`a port was taken by someone else (${err.message}); retrying with new ports`);
      }
    }
    throw lastErr;
  });
}

/** Stops exactly the processes this checkout's rig started and removes its state. Returns what was stopped. */
export async function down(opts: RigOptions = {}): Promise<string[]> {
  const stateDir = rigStateDir(opts);
  return withLock(lockFile(stateDir), { purpose: `rig down in ${stateDir}` }, async () => {
    const state = await readState(stateDir);
    const stopped = state ? await stop(stateDir, state) : [];
    await rm(stateDir, { recursive: true, force: true });
    return stopped;
  });
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

async function readState(stateDir: string): Promise<StateFile | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

async function writeState(stateDir: string, state: StateFile): Promise<void> {
  await writeFile(join(stateDir, 'state.json.tmp'), JSON.stringify(state, null, 2));
  await rename(join(stateDir, 'state.json.tmp'), join(stateDir, 'state.json'));
}

/**
 * A rig kept running between test runs must not outlive a change to how it is started: `up`
 * restarts it when this hash differs (this module's source holds every flag; kwok.yaml the Stages).
 */
function rigRecipe(bins: RigBinaries): string {
  const h = createHash('sha256');
  h.update(readFileSync(import.meta.filename)).update(readFileSync(join(import.meta.dirname, 'kwok.yaml'))).update(JSON.stringify(bins.manifest.versions));
  return h.digest('hex').slice(0, 16);
}

function info(stateDir: string, state: StateFile, reused: boolean, upMs: number): RigInfo {
  const paths = kubeconfigPaths({ stateDir });
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
  };
}

function describe(st: RigStatus): string {
  const dead = st.components.filter((c) => !c.running).map((c) => c.name);
  return [dead.length ? `not running: ${dead.join(', ')}` : '', st.readyz ? `readyz: ${st.readyz}` : '', `nodes ready: ${st.nodesReady ?? 0}`]
    .filter(Boolean)
    .join('; ');
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined if no such process. */
function procStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const st = fields[0];
    if (st === 'Z' || st === 'X') return undefined; // exited, not yet reaped
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

function isOurs(p: ProcessRecord): boolean {
  return procStartTicks(p.pid) === p.startTicks;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET on the API server with a client certificate; resolves with status code and body. */
function apiGet(server: string, path: string, pki: { ca: Buffer; cert: Buffer; key: Buffer }, timeoutMs = 3000): Promise<{ code: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(new URL(path, server), { ca: pki.ca, cert: pki.cert, key: pki.key, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolveGet({ code: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function adminTls(stateDir: string): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
  const dir = join(stateDir, 'pki');
  const [ca, cert, key] = await Promise.all([readFile(join(dir, 'ca.crt')), readFile(join(dir, 'admin.crt')), readFile(join(dir, 'admin.key'))]);
  return { ca, cert, key };
}

async function collectStatus(stateDir: string, state: StateFile): Promise<RigStatus> {
  const components = state.processes.map((p) => {
    const running = isOurs(p);
    return { name: p.name, pid: p.pid, running, rssKiB: running ? rssKiB(p.pid) : 0 };
  });
  const totalRssKiB = components.reduce((a, c) => a + c.rssKiB, 0);
  const paths = kubeconfigPaths({ stateDir });
  const base = { stateDir, server: state.server, kubeconfig: paths.admin, restrictedKubeconfig: paths.restricted, components, totalRssKiB };
  const allUp = COMPONENTS.every((n) => components.some((c) => c.name === n && c.running));
  let readyz: string | undefined;
  let nodesReady: number | undefined;
  try {
    const tls = await adminTls(stateDir);
    const r = await apiGet(state.server, '/readyz', tls);
    readyz = r.code === 200 ? 'ok' : `HTTP ${r.code}`;
    if (r.code === 200) nodesReady = await countReadyNodes(state.server, tls);
  } catch (err) {
    readyz = `unreachable (${(err as Error).message})`;
  }
  return { ...base, state: allUp && readyz === 'ok' ? 'running' : 'broken', readyz, nodesReady };
}

async function countReadyNodes(server: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<number> {
  const r = await apiGet(server, '/api/v1/nodes', tls);
  if (r.code !== 200) return 0;
  const list = JSON.parse(r.body) as k8s.V1NodeList;
  return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
}

/** SIGTERM, then SIGKILL after 10 s, only to processes whose PID and start time match the record. */
async function stop(stateDir: string, state: StateFile): Promise<string[]> {
  const ours = [...state.processes].reverse().filter(isOurs);
  for (const p of ours) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (ours.some(isOurs) && Date.now() < deadline) await sleep(100);
  for (const p of ours.filter(isOurs)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  while (ours.some(isOurs) && Date.now() < deadline + 5000) await sleep(100);
  await rm(join(stateDir, 'state.json'), { force: true });
  return ours.map((p) => `${p.name} (pid ${p.pid})`);
}

interface Started {
  readonly record: ProcessRecord;
  /** Resolves with the exit code if the process exits (while we are still watching). */
  readonly exited: Promise<number | null>;
  readonly logFile: string;
}

async function startProcess(name: Component, bin: string, args: string[], logDir: string): Promise<Started> {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? -1 : null)));
  });
  exited.catch(() => {});
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${bin}: ${await exited.catch((e: Error) => e.message)}`);
  let startTicks: number | undefined;
  for (let i = 0; i < 50 && startTicks === undefined; i++) {
    startTicks = procStartTicks(pid);
    if (startTicks === undefined) await sleep(10);
  }
  const exe = await readlink(`/proc/${pid}/exe`).catch(() => bin);
  return { record: { name, pid, startTicks: startTicks ?? -1, exe }, exited, logFile };
}

function kubeconfig(server: string, caData: string, user: string, userEntry: Record<string, string>, namespace?: string): string {
  const ctx = namespace ? `mmoctl-rig-${namespace}` : 'mmoctl-rig';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'mmoctl-rig', cluster: { server, 'certificate-authority-data': caData } }],
    users: [{ name: user, user: userEntry }],
    contexts: [{ name: ctx, context: { cluster: 'mmoctl-rig', user, ...(namespace ? { namespace } : {}) } }],
    'current-context': ctx,
  });
}

async function certKubeconfig(path: string, server: string, pki: Pki, id: string): Promise<void> {
  const c = pki.clients[id]!;
  const body = kubeconfig(server, await pemData(pki.caCert), id, {
    'client-certificate-data': await pemData(c.cert),
    'client-key-data': await pemData(c.key),
  });
  await writeFile(path, body, { mode: 0o600 });
}

async function start(stateDir: string, bins: RigBinaries, log: (l: string) => void, readyTimeoutMs: number): Promise<RigInfo> {
  const t0 = Date.now();
  await rm(stateDir, { recursive: true, force: true });
  const logDir = join(stateDir, 'logs');
  const kcDir = join(stateDir, 'kubeconfig');
  await Promise.all([mkdir(logDir, { recursive: true }), mkdir(kcDir, { recursive: true })]);

  const pki = await createPki(join(stateDir, 'pki'), [
    { file: 'admin', user: 'mmoctl-rig-admin', groups: ['system:masters'] },
    { file: 'controller-manager', user: 'system:kube-controller-manager' },
    { file: 'scheduler', user: 'system:kube-scheduler' },
    // kwok writes status for nodes, pods, services and volumes and creates PVs: cluster-wide writes.
    { file: 'kwok', user: 'kwok-controller', groups: ['system:masters'] },
  ]);
  const ports = {
    etcdClient: await freeTcpPort(),
    etcdPeer: await freeTcpPort(),
    apiserver: await freeTcpPort(),
    controllerManager: await freeTcpPort(),
    scheduler: await freeTcpPort(),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  await Promise.all([
    certKubeconfig(join(stateDir, 'admin.kubeconfig'), server, pki, 'admin'),
    certKubeconfig(join(kcDir, 'controller-manager'), server, pki, 'controller-manager'),
    certKubeconfig(join(kcDir, 'scheduler'), server, pki, 'scheduler'),
    certKubeconfig(join(kcDir, 'kwok'), server, pki, 'kwok'),
  ]);

  const state: StateFile = {
    format: 1, server, ports, processes: [], versions: bins.manifest.versions, startedAt: new Date().toISOString(), recipe: rigRecipe(bins),
  };
  const watched: Started[] = [];
  const launch = async (name: Component, args: string[]): Promise<void> => {
    const s = await startProcess(name, bins.paths[name], args, logDir);
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
    '--service-cluster-ip-range=10.96.0.0/16',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction,PodSecurity',
    // Privileged pods are allowed by the server, so that Pod Security admission is what refuses them.
    '--allow-privileged=true',
    // The `kubernetes` Service would point at 127.0.0.1, which Endpoints validation refuses.
    '--endpoint-reconciler-type=none',
    '--profiling=false', '--enable-priority-and-fairness=false', '--event-ttl=1h',
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

  const kc = new k8s.KubeConfig();
  kc.loadFromFile(join(stateDir, 'admin.kubeconfig'));
  await bootstrap(kc);

  await waitFor(`${RIG_NODES.length} Ready nodes`, async () => ((await countReadyNodes(server, tls)) === RIG_NODES.length ? true : undefined));
  await waitFor('the default ServiceAccount', async () => ((await apiGet(server, '/api/v1/namespaces/default/serviceaccounts/default', tls)).code === 200 ? true : undefined));
  await writeRestrictedKubeconfig(kc, join(stateDir, 'restricted.kubeconfig'), server, await pemData(pki.caCert));

  const upMs = Date.now() - t0;
  state.ready = { atMs: upMs };
  await writeState(stateDir, state);
  log(`rig ready in ${(upMs / 1000).toFixed(1)}s: ${server} (KUBECONFIG=${join(stateDir, 'admin.kubeconfig')})`);
  return info(stateDir, state, false, upMs);
}

async function createIgnoringExisting(api: k8s.KubernetesObjectApi, obj: k8s.KubernetesObject): Promise<void> {
  try {
    await api.create(obj);
  } catch (err) {
    if (!(err instanceof k8s.ApiException && err.code === 409)) throw err;
  }
}

/** Creates the fake nodes, the default StorageClass and the restricted tenant (namespace, SA, Role). */
async function bootstrap(kc: k8s.KubeConfig): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const kubeletVersion = (await kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion;
  const nodes: k8s.V1Node[] = RIG_NODES.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'rig.standard',
        'topology.kubernetes.io/region': 'rig',
        'topology.kubernetes.io/zone': n.zone,
        type: 'kwok',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {},
    status: {
      allocatable: { ...NODE_ALLOCATABLE },
      capacity: { ...NODE_ALLOCATABLE },
      addresses: [
        { type: 'InternalIP', address: n.internalIP },
        { type: 'ExternalIP', address: n.externalIP },
        { type: 'Hostname', address: n.name },
      ],
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: 'mmoctl rig (kwok, no containers run)',
        kernelVersion: 'kwok',
        containerRuntimeVersion: 'kwok://fake',
        kubeletVersion: '',
        kubeProxyVersion: '',
        bootID: '',
        machineID: n.name,
        systemUUID: n.name,
      },
    },
  }));
  for (const node of nodes) {
    node.status!.nodeInfo!.kubeletVersion = kubeletVersion;
    await createIgnoringExisting(api, node);
  }
  const objects: k8s.KubernetesObject[] = [
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rig.mmo.dev/volume',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
      allowVolumeExpansion: true,
    } as k8s.V1StorageClass,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: RESTRICTED_NAMESPACE } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    } as k8s.V1Role,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: RESTRICTED_USER },
      subjects: [{ kind: 'ServiceAccount', name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE }],
    } as k8s.V1RoleBinding,
  ];
  for (const obj of objects) await createIgnoringExisting(api, obj);
}

async function writeRestrictedKubeconfig(kc: k8s.KubeConfig, path: string, server: string, caData: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    name: RESTRICTED_USER,
    namespace: RESTRICTED_NAMESPACE,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 7 * 24 * 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error('the API server returned no token for the restricted ServiceAccount');
  await writeFile(path, kubeconfig(server, caData, `system:serviceaccount:${RESTRICTED_NAMESPACE}:${RESTRICTED_USER}`, { token }, RESTRICTED_NAMESPACE), {
    mode: 0o600,
  });
}
