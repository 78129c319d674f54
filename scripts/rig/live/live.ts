/**
 * The live rig as `up`, `down` and `status` (rig.ts) see it: what it needs from the machine, what a
 * running one offers to tests and tools, and how what it set up on the machine is undone — also
 * for a live rig whose state was lost (its bridge names its owner).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../lib/lock.ts';
import type { ServiceUrls } from '../../services/services.ts';
import type { RigNode } from '../cluster.ts';
import type { StateFile } from '../processes.ts';
import { missingCniPlugins } from './cni.ts';
import { ip, liveBridges, planNetwork, removeHostPortMappings, removePortmapChains, tearDownNetwork, type NetworkPlan } from './network.ts';
import { tearDownSandbox, type SandboxRecord } from './pod.ts';
import { inPodServiceUrls, liveFiles, type LiveState } from './state.ts';

/** Debian's Prometheus. */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** What a running live rig offers to tests and tools (RigInfo.live). */
export interface LiveRigInfo {
  /** Slot of this rig among the live rigs of the machine (decides its ranges). */
  readonly slot: number;
  readonly bridge: string;
  /** The bridge's address: where pods reach the API server and the data services. */
  readonly hostAddress: string;
  /** Process pods get addresses from here. */
  readonly podCidr: string;
  /** The nodes with their addresses (both live on the bridge: hostPorts are mapped there). */
  readonly nodes: readonly RigNode[];
  /** This checkout's PostgreSQL, Redis and RabbitMQ as pods reach them (start them with `npm run services -- up`). */
  readonly services: ServiceUrls;
  /** The API server as pods reach it (KUBERNETES_SERVICE_HOST/PORT). */
  readonly apiServerInPod: string;
  /** Prometheus (loopback): `mmoctl … --prometheus-url` takes this. */
  readonly prometheusUrl: string;
  /** `<podsDir>/<namespace>_<pod>_<uid>/logs/<container>/<restart>.log` */
  readonly podsDir: string;
}

/** Everything the machine lacks for a live rig, each with what to do; empty when it can run one. */
export function liveProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push('the live rig needs root: it creates network namespaces, a bridge, routes and iptables rules for its pods (run it as root, e.g. `sudo env "PATH=$PATH" npm run rig -- up --live`)');
  }
  const have = (cmd: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const packages = [
    ...(missingCniPlugins().length ? [`containernetworking-plugins (missing CNI plugins: ${missingCniPlugins().join(', ')})`] : []),
    ...(have('iptables') ? [] : ['iptables (the portmap CNI plugin writes hostPort rules with it)']),
    ...(existsSync(PROMETHEUS_BIN) ? [] : [`prometheus (${PROMETHEUS_BIN})`]),
    ...(have('ip') ? [] : ['iproute2 (the ip command)']),
  ];
  if (packages.length) problems.push(`the live rig needs the Debian packages ${packages.join(', ')}: install them with scripts/setup/system-packages.sh (it reads scripts/setup/debian-packages.txt)`);
  return problems;
}

/** RigInfo.live of a rig in `stateDir` with `live` state. */
export function liveInfo(stateDir: string, live: LiveState): LiveRigInfo {
  const { plan } = live;
  return {
    slot: plan.slot,
    bridge: plan.bridge,
    hostAddress: plan.hostAddress,
    podCidr: plan.podCidr,
    nodes: plan.nodes,
    services: inPodServiceUrls(plan),
    apiServerInPod: `https://${live.apiServerInPod.host}:${live.apiServerInPod.port}`,
    prometheusUrl: `http://127.0.0.1:${live.prometheusPort}`,
    podsDir: liveFiles(stateDir).podsDir,
  };
}

/**
 * Undoes what a live rig set up on the machine, once its processes are stopped: every pod sandbox
 * still there (processes, interfaces, hostPort rules, namespace), then its routes and bridge.
 */
export async function tearDownLive(stateDir: string, plan: NetworkPlan, opts: { portmapChainsBefore: boolean }, log: (line: string) => void = () => {}): Promise<void> {
  const podsDir = liveFiles(stateDir).podsDir;
  const records = new Map<string, SandboxRecord>();
  if (existsSync(podsDir)) {
    for (const d of readdirSync(podsDir)) {
      const file = join(podsDir, d, 'sandbox.json');
      if (!existsSync(file)) continue;
      const r = JSON.parse(readFileSync(file, 'utf8')) as SandboxRecord;
      records.set(r.netns, r);
    }
  }
  const namespaces = (await ip(['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(plan.netnsPrefix));
  for (const netns of namespaces) {
    const record = records.get(netns) ?? { containerId: netns.slice(plan.netnsPrefix.length), netns, portMappings: [], namespace: '', name: '' };
    await tearDownSandbox(plan, join(stateDir, 'ipam'), record, log);
  }
  const stale = await removeHostPortMappings(plan.bridge);
  if (stale) log(`removed ${stale} hostPort mappings of ${plan.bridge} no sandbox record named`);
  await tearDownNetwork(plan);
  if (!opts.portmapChainsBefore && (await removePortmapChains())) log('removed the portmap plugin\'s nat chains (no mapping is left)');
}

/**
 * Tears down live rigs whose owner no longer records them (state deleted or rig restarted on other
 * ranges): the owner's lock is taken first, so a rig being set up right now is never touched.
 * `self` is the state directory whose lock the caller already holds.
 */
export async function reclaimAbandoned(self: string, log: (line: string) => void): Promise<void> {
  for (const b of await liveBridges()) {
    const owner = b.owner || '(unknown)';
    const lock = owner === self || !existsSync(owner) ? undefined : await acquireLock(`${owner}.lock`, { purpose: 'checking an abandoned live rig', timeoutMs: 1000 }).catch(() => null);
    if (lock === null) continue; // its owner is busy: not abandoned
    try {
      let state: StateFile | undefined;
      try {
        state = JSON.parse(readFileSync(join(owner, 'state.json'), 'utf8')) as StateFile;
      } catch {
        state = undefined;
      }
      if (state?.live?.plan.slot === b.slot) continue;
      log(`removing the abandoned live rig network ${b.bridge} (owner ${owner})`);
      await tearDownLive(owner, planNetwork(b.slot), { portmapChainsBefore: state?.live?.portmapChainsBefore ?? true }, log);
    } finally {
      await lock?.release();
    }
  }
}
