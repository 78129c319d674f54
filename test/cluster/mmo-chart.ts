// Helpers for suites that put the real mmo chart on the rig: namespaces under a Pod Security level,
// the monitoring CRDs the production preset needs, free node ports, what the cluster holds after an
// install (Secrets, the game server's environment), and Job watches across a helm operation.
import { randomInt } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { ENV } from '../../contract/env.ts';
import { loadConfig, type Config } from '../../server/src/config.ts';
import type { Container } from '../support/chart.ts';
import { envValues, resolveContainerEnv, type ResolvedVar } from '../../scripts/rig/live/env.ts';
import { eventually, type clients } from './kube.ts';

export type Clients = ReturnType<typeof clients>;

/** Creates a namespace whose pods must pass the Pod Security `level` (enforced, and warned about). */
export async function podSecurityNamespace(admin: Clients, name: string, level: 'restricted' | 'baseline' | 'privileged'): Promise<string> {
  const labels = { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/warn': level, 'pod-security.kubernetes.io/audit': level };
  await admin.core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

const crd = (kind: string, plural: string): k8s.V1CustomResourceDefinition => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.monitoring.coreos.com` },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } } },
      },
    ],
  },
});

/**
 * Makes the ServiceMonitor and PrometheusRule kinds exist (monitoring on needs them, as on a cluster
 * with kube-prometheus-stack). They stand in for prometheus-operator's CRDs: names, group, version
 * and scope match, the spec is taken as is; the chart suite checks the spec's fields offline.
 * Idempotent and safe to call from several files at once; never removed (other runs reuse them).
 */
export async function ensureMonitoringCrds(admin: Clients): Promise<void> {
  const api = admin.kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const c of [crd('ServiceMonitor', 'servicemonitors'), crd('PrometheusRule', 'prometheusrules')]) {
    try {
      await api.createCustomResourceDefinition({ body: c });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 409)) throw err;
    }
    await eventually(`CRD ${c.metadata!.name} established`, async () => {
      const live = await api.readCustomResourceDefinition({ name: c.metadata!.name! });
      return live.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? true : undefined;
    }, 20_000);
  }
}

/**
 * Makes a PriorityClass exist (the API server admits a pod naming one only when it does), as a cluster
 * whose studio schedules by priority would have it. Idempotent, safe from several files at once, never
 * removed (other runs reuse it).
 */
export async function ensurePriorityClass(admin: Clients, name: string): Promise<void> {
  const api = admin.kc.makeApiClient(k8s.SchedulingV1Api);
  try {
    await api.createPriorityClass({ body: { metadata: { name }, value: 1000, globalDefault: false, description: 'mmo chart tests' } });
  } catch (err) {
    if (!(err instanceof k8s.ApiException && err.code === 409)) throw err;
  }
}

/**
 * A node port in the default range that no Service of the cluster uses now. Node ports are
 * cluster-wide, so installs that run at once (helm 3 and 4, other files) must not share one.
 */
export async function freeNodePort(admin: Clients): Promise<number> {
  const used = new Set(
    (await admin.core.listServiceForAllNamespaces()).items.flatMap((s) => [
      ...(s.spec?.ports ?? []).map((p) => p.nodePort ?? 0),
      s.spec?.healthCheckNodePort ?? 0,
    ]),
  );
  for (let i = 0; i < 100; i++) {
    const port = randomInt(30_100, 32_768);
    if (!used.has(port)) return port;
  }
  throw new Error('no free node port after 100 tries');
}

/** Decoded data of every Secret in the namespace except helm's release records, by name. */
export async function secretsOf(admin: Clients, namespace: string): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of (await admin.core.listNamespacedSecret({ namespace })).items) {
    if (s.type === 'helm.sh/release.v1') continue;
    out[s.metadata!.name!] = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  }
  return out;
}

/**
 * The environment the game server container of a live Deployment would start with — ConfigMaps and
 * Secrets read from the API server, the pod name for fieldRefs — and the server's own validation of
 * it. Pods never run on the rig, so this is how a suite checks that what the cluster holds would
 * start the server.
 */
export async function liveServerConfig(admin: Clients, namespace: string, deployment: string): Promise<{ env: Record<string, ResolvedVar>; config: Config }> {
  const d = await admin.apps.readNamespacedDeployment({ namespace, name: deployment });
  const server = d.spec!.template.spec!.containers.find((c) => c.name === 'server') as unknown as Container;
  const [configMaps, secrets] = await Promise.all([admin.core.listNamespacedConfigMap({ namespace }), secretsOf(admin, namespace)]);
  const env = resolveContainerEnv(
    server,
    (kind, name) => (kind === 'Secret' ? secrets[name] : configMaps.items.find((c) => c.metadata?.name === name)?.data),
    { 'metadata.name': `${deployment}-5d8f9c7b6-x2x4z` },
  );
  const announce = env[ENV.udpAnnounceFile.name]?.value;
  // The node-address init container writes the node's ExternalIP there; stand in for it.
  const config = loadConfig(envValues(env), (path) => {
    if (path !== announce) throw new Error(`ENOENT: ${path}`);
    return '203.0.113.11\n';
  });
  return { env, config };
}

/** Last seen state of every Job of the namespace while `during` runs (hook Jobs are deleted on success). */
export async function watchJobs<T>(admin: Clients, namespace: string, during: () => Promise<T>): Promise<{ result: T; jobs: Map<string, k8s.V1Job> }> {
  const jobs = new Map<string, k8s.V1Job>();
  const watch = new k8s.Watch(admin.kc);
  // Resolves once the watch is established, so nothing `during` creates can be missed.
  const controller = await watch.watch(
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    {},
    (phase, obj: k8s.V1Job) => {
      if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') {
        const prev = jobs.get(obj.metadata!.name!);
        // Keep the most finished state: a DELETED event may carry an older status.
        if (!prev || jobFinished(obj) || !jobFinished(prev)) jobs.set(obj.metadata!.name!, obj);
      }
    },
    () => {},
  );
  try {
    const result = await during();
    return { result, jobs };
  } finally {
    controller.abort();
  }
}

/** 'Complete' or 'Failed' when the Job has finished, else undefined. */
export function jobFinished(job: k8s.V1Job): 'Complete' | 'Failed' | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type as 'Complete' | 'Failed' | undefined;
}

/** Runs `during` while sampling `probe` every 100 ms; returns both (samples bounded by `during`'s own timeout). */
export async function sampleWhile<T, S>(during: () => Promise<T>, probe: () => Promise<S>): Promise<{ result: T; samples: S[] }> {
  const samples: S[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      try {
        samples.push(await probe());
      } catch {
        // a failed read is no sample
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return { result: await during(), samples };
  } finally {
    done = true;
    await sampler;
  }
}

/** Warning events of the namespace, as "Kind/name reason: message" lines. */
export async function warnings(admin: Clients, namespace: string): Promise<string[]> {
  const events = await admin.core.listNamespacedEvent({ namespace });
  return events.items.filter((e) => e.type === 'Warning').map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`);
}
