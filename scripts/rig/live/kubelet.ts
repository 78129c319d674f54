/**
 * The live rig's kubelet, a process of its own (`node scripts/rig/live/kubelet.ts <state dir>`,
 * started by `up` with `live`): it runs the pods labelled `mmo.dev/rig-run=process` that the
 * scheduler put on the rig's nodes (pod.ts), serves their logs to the API server (logs.ts), and
 * forwards the bridge's host address to the API server and this checkout's data services
 * (forward.ts). kwok's Stages leave those pods alone (kwok.yaml).
 *
 * On SIGTERM (the rig going down) it kills every pod at once, tears their networks down and exits;
 * at start it tears down sandboxes a previous instance left.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { PROJECT_ROOT } from '../../lib/root.ts';
import { Services } from '../../services/services.ts';
import { readState } from '../processes.ts';
import { startForward } from './forward.ts';
import { checkoutImage } from './image.ts';
import { startLogServer } from './logs.ts';
import { ip } from './network.ts';
import { PodRunner, RUN_LABEL, RUN_PROCESS, tearDownSandbox, type KubeletApi, type KubeletContext, type SandboxRecord } from './pod.ts';
import { liveFiles, SERVICE_FORWARDS } from './state.ts';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

const stateDir = process.argv[2];
if (!stateDir) {
  process.stderr.write('usage: node scripts/rig/live/kubelet.ts <rig state dir>\n');
  process.exit(2);
}
const state = await readState(stateDir);
if (!state?.live) {
  process.stderr.write(`no live rig is recorded in ${stateDir}/state.json\n`);
  process.exit(1);
}
const { plan } = state.live;
const files = liveFiles(stateDir);

const kc = new k8s.KubeConfig();
kc.loadFromFile(files.kubeletKubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const notFound = (err: unknown) => err instanceof k8s.ApiException && err.code === 404;
/** JSON as the API server wants it: times in whole seconds (RFC 3339). */
const wire = <T>(obj: T): T => JSON.parse(JSON.stringify(obj, (_k, v: unknown) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT.*\.\d{3}Z$/.test(v) ? v.replace(/\.\d{3}Z$/, 'Z') : v))) as T;

const events = new Map<string, { name: string; count: number }>();
const api: KubeletApi = {
  async configMap(namespace, name) {
    try {
      return (await core.readNamespacedConfigMap({ namespace, name })).data ?? {};
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  },
  async secret(namespace, name) {
    try {
      const data = (await core.readNamespacedSecret({ namespace, name })).data ?? {};
      return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  },
  async token(pod, audience, expirationSeconds) {
    const m = pod.metadata!;
    const tr = await core.createNamespacedServiceAccountToken({
      namespace: m.namespace!,
      name: pod.spec?.serviceAccountName ?? 'default',
      body: { spec: { audiences: audience ? [audience] : [], expirationSeconds: Math.max(600, expirationSeconds), boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: m.name!, uid: m.uid! } } },
    });
    if (!tr.status?.token) throw new Error(`no token for ServiceAccount ${m.namespace}/${pod.spec?.serviceAccountName}`);
    return tr.status.token;
  },
  async patchStatus(pod, status) {
    try {
      await core.patchNamespacedPodStatus({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, body: wire({ status }) }, mergePatch);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  },
  async deletePod(pod) {
    try {
      // With a body the API server reads the options from it alone (query parameters are ignored).
      await core.deleteNamespacedPod({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid! } } });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && (err.code === 404 || err.code === 409))) throw err;
    }
  },
  event(pod, type, reason, message, container) {
    const m = pod.metadata!;
    const key = `${m.uid}/${container ?? ''}/${reason}/${message}`;
    const seen = events.get(key);
    const at = new Date();
    const write = seen
      ? core.patchNamespacedEvent({ namespace: m.namespace!, name: seen.name, body: wire({ count: ++seen.count, lastTimestamp: at }) }, mergePatch)
      : core
          .createNamespacedEvent({
            namespace: m.namespace!,
            body: wire({
              metadata: { generateName: `${m.name}.` },
              involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: m.namespace, name: m.name, uid: m.uid, ...(container ? { fieldPath: `spec.containers{${container}}` } : {}) },
              type, reason, message, count: 1, firstTimestamp: at, lastTimestamp: at,
              source: { component: 'kubelet', host: pod.spec?.nodeName },
              reportingComponent: 'kubelet', reportingInstance: pod.spec?.nodeName,
            }),
          })
          .then((e) => void events.set(key, { name: e.metadata!.name!, count: 1 }));
    write.catch((err: unknown) => log(`event ${reason} for ${m.namespace}/${m.name} not recorded: ${String(err)}`));
  },
};

const podsDir = files.podsDir;
const ipamDir = join(stateDir, 'ipam');
await mkdir(podsDir, { recursive: true });
const ctx: KubeletContext = {
  plan,
  podsDir,
  ipamDir,
  checkout: PROJECT_ROOT,
  image: checkoutImage(PROJECT_ROOT),
  apiServer: state.live.apiServerInPod,
  api,
  backoff: { initialMs: 1000, maxMs: 30_000 },
  log,
};

// Sandboxes a previous instance left: their processes, interfaces, hostPort rules and namespaces.
const leftover = (await ip(['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(plan.netnsPrefix));
for (const netns of leftover) {
  const dir = readdirSync(podsDir).find((d) => existsSync(join(podsDir, d, 'sandbox.json')) && d.endsWith(`_${netns.slice(plan.netnsPrefix.length)}`));
  const record: SandboxRecord = dir
    ? (JSON.parse(readFileSync(join(podsDir, dir, 'sandbox.json'), 'utf8')) as SandboxRecord)
    : { containerId: netns.slice(plan.netnsPrefix.length), netns, portMappings: [], namespace: '', name: '' };
  log(`tearing down the sandbox ${netns} a previous kubelet left`);
  await tearDownSandbox(plan, ipamDir, record, log);
}

// Pods reach the API server and the data services on the bridge's host address.
const services = new Services(PROJECT_ROOT);
const apiPort = Number(new URL(state.server).port);
await startForward({ name: 'the API server', host: state.live.apiServerInPod.host, port: state.live.apiServerInPod.port, target: () => ({ host: '127.0.0.1', port: apiPort }) }, log);
for (const f of SERVICE_FORWARDS) {
  await startForward({ name: f.service, host: plan.hostAddress, port: f.port, target: () => ({ host: '127.0.0.1', port: Number(new URL(services.urls()[f.urlVariable]).port) }) }, log);
}

const runners = new Map<string, PodRunner>();
const byName = (namespace: string, name: string) => [...runners.values()].find((r) => r.pod.metadata?.namespace === namespace && r.pod.metadata?.name === name);
const pki = join(stateDir, 'pki');
await startLogServer(
  plan.nodes.map((n) => n.internalIP),
  { ca: await readFile(join(pki, 'ca.crt')), cert: await readFile(join(pki, 'kubelet-serving.crt')), key: await readFile(join(pki, 'kubelet-serving.key')) },
  (namespace, name) => {
    const r = byName(namespace, name);
    return r && { logsDir: r.logsDir, restartCount: (c: string) => r.restartCount(c), get active() { return runners.get(r.uid) === r; } };
  },
  log,
);

/** Starts, updates or stops the runner of `pod` as its latest version asks. */
function reconcile(pod: k8s.V1Pod): void {
  const uid = pod.metadata?.uid;
  const node = plan.nodes.find((n) => n.name === pod.spec?.nodeName);
  if (!uid || !node) return;
  let runner = runners.get(uid);
  if (pod.metadata?.deletionTimestamp) {
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (!runner) {
      void api.deletePod(pod).catch((err: unknown) => log(`deleting ${pod.metadata?.namespace}/${pod.metadata?.name}: ${String(err)}`));
      return;
    }
    runner.pod = pod;
    const r = runner;
    void r.terminate(grace).then(() => {
      if (runners.get(uid) === r) runners.delete(uid);
    });
    return;
  }
  if (runner) {
    runner.pod = pod;
    return;
  }
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
  runner = new PodRunner(ctx, pod, node);
  runners.set(uid, runner);
  log(`running pod ${pod.metadata?.namespace}/${pod.metadata?.name} on ${node.name}`);
  void runner.run();
}

const selector = `${RUN_LABEL}=${RUN_PROCESS}`;
const informer = k8s.makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces({ labelSelector: selector }), selector);
informer.on('add', reconcile);
informer.on('update', reconcile);
informer.on('delete', (pod) => {
  // Gone without us (a forced delete): stop its processes at once.
  const r = runners.get(pod.metadata?.uid ?? '');
  if (r) {
    runners.delete(r.uid);
    void r.terminate(0, true);
  }
});
informer.on('error', (err: unknown) => {
  log(`pod watch failed (${String(err)}); watching again in 1 s`);
  setTimeout(() => void informer.start().catch(() => {}), 1000);
});
await informer.start();
await writeFile(join(stateDir, 'kubelet.ready'), `${process.pid}\n`);
log(`kubelet ready: nodes ${plan.nodes.map((n) => `${n.name} ${n.internalIP}`).join(', ')}; pods labelled ${selector}`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await informer.stop();
    await Promise.allSettled([...runners.values()].map((r) => r.terminate(1, true)));
    log('kubelet stopped');
    process.exit(0);
  })();
});
