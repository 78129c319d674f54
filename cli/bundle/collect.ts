/**
 * What a support bundle holds, gathered in parallel through `Kube` and `Helm`: the status and
 * preflight reports, helm's history, values and manifest, the release's objects as YAML, container
 * logs, versions. Every part that cannot be gathered is listed with the reason, never silently
 * left out. Every text passes through the redaction of the namespace's Secrets (redact.ts) before it
 * is returned; if those Secrets cannot be read, there is no bundle, since nothing could be redacted.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { LABELS } from '../../contract/labels.ts';
import { preflightDocument, runPreflight, type PreflightReport } from '../checks/report.ts';
import { FailedError } from '../errors.ts';
import type { Helm, ReleaseRef } from '../helm/helm.ts';
import type { Kind, Kube } from '../kube/kube.ts';
import { parseManifests } from '../manifests.ts';
import { CLI_VERSION } from '../package.ts';
import { collectStatus, readError, ReleaseNotFound } from '../status/collect.ts';
import { statusDocument } from '../status/model.ts';
import { statusReport } from '../status/verdict.ts';
import { resolveChart } from '../values/chart.ts';
import { redactionFrom, redactValues, type Redaction, type SecretSummary } from './redact.ts';

/** Lines of each container log (the newest). */
export const LOG_TAIL_LINES = 2000;
/** Log reads at a time. */
const LOG_CONCURRENCY = 6;

export interface BundleSources {
  readonly kube: () => Promise<Kube>;
  readonly helm: () => Promise<Helm>;
  /** Preflight with these values (the release's own); rejects when it cannot run. */
  readonly preflight: (values: Record<string, unknown>) => Promise<PreflightReport>;
  readonly now?: () => Date;
}

/** One file of the bundle, already redacted. */
export interface BundlePart {
  readonly path: string;
  readonly what: string;
  readonly text: string;
}

export interface MissingPart {
  readonly path: string;
  readonly what: string;
  readonly reason: string;
}

export interface BundleContents {
  readonly createdAt: string;
  readonly parts: readonly BundlePart[];
  readonly missing: readonly MissingPart[];
  readonly secrets: readonly SecretSummary[];
  readonly redaction: { readonly values: number; readonly tooShort: readonly string[] };
}

/** The release's objects, one YAML file per kind, named by its plural (`cluster/deployments.yaml`). */
const OBJECT_KINDS: readonly Kind[] = ['Deployment', 'StatefulSet', 'ReplicaSet', 'Job', 'Pod', 'Service', 'EndpointSlice', 'PersistentVolumeClaim', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ConfigMap'];

/** Objects without the noise: managedFields and kubectl's copy of the last applied object. */
function tidy<T extends KubernetesObject>(o: T): T {
  const copy = structuredClone(o) as T & { metadata?: { managedFields?: unknown; annotations?: Record<string, string> } };
  if (copy.metadata) {
    delete copy.metadata.managedFields;
    if (copy.metadata.annotations) delete copy.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
  return copy;
}

const yaml = (v: unknown) => stringify(v, { lineWidth: 0 });
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Runs `fn` over `items`, at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function collectBundle(ref: ReleaseRef, sources: BundleSources): Promise<BundleContents> {
  const now = (sources.now ?? (() => new Date()))();
  const { namespace, release } = ref;
  const [kube, helm] = await Promise.all([sources.kube(), sources.helm()]);

  let redaction: Redaction;
  try {
    redaction = redactionFrom(await kube.list('Secret', { namespace }));
  } catch (err) {
    throw new FailedError(`no support bundle: the Secrets of namespace ${namespace} could not be read, so their values could not be kept out of it (${readError(err)}).`, {
      hint: 'Use a context that may list Secrets in the namespace (helm needs that too); `mmoctl preflight` lists every permission the release needs.',
      cause: err,
    });
  }

  const parts: BundlePart[] = [];
  const missing: MissingPart[] = [];
  const add = (path: string, what: string, text: string) => parts.push({ path, what, text: redaction.redact(text) });
  const lack = (path: string, what: string, err: unknown) => missing.push({ path, what, reason: redaction.redact(typeof err === 'string' ? err : readError(err)) });
  /** Adds the part `fn` makes, or lists it as missing with why. */
  const part = async (path: string, what: string, fn: () => Promise<string>) => {
    try {
      add(path, what, await fn());
    } catch (err) {
      lack(path, what, err);
    }
  };
  const selector = `${LABELS.instance}=${release}`;

  await Promise.all([
    part('status.json', 'mmoctl status -o json', async () => {
      try {
        return json(statusDocument(statusReport(await collectStatus(ref, { kube: async () => kube, helm: async () => helm, now: () => now }))));
      } catch (err) {
        if (err instanceof ReleaseNotFound) throw new Error(`helm has no release ${release} in ${namespace}`);
        throw err;
      }
    }),
    part('preflight.json', "mmoctl preflight -o json with the release's values", async () => json(preflightDocument(await sources.preflight(await helm.values(ref))))),
    part('helm/history.yaml', 'helm history', async () => {
      const h = await helm.history(ref);
      if (!h.length) throw new Error(`helm has no release ${release} in ${namespace}`);
      return yaml(h);
    }),
    part('helm/values.yaml', 'helm get values (user-supplied), credentials redacted', async () => yaml(redactValues(await helm.values(ref)))),
    part('helm/values-computed.yaml', 'helm get values --all, credentials redacted', async () => yaml(redactValues(await helm.values(ref, { all: true })))),
    part('helm/manifest.yaml', "helm's manifest of the current revision, Secret data left out", async () => {
      const rel = await helm.status(ref);
      if (!rel) throw new Error(`helm has no release ${release} in ${namespace}`);
      const objects = parseManifests([rel.manifest ?? '', ...(rel.hooks ?? [])].join('\n---\n')).map((o) => {
        if (o.kind !== 'Secret') return o;
        const { data, stringData, ...rest } = o as typeof o & { data?: Record<string, string>; stringData?: Record<string, string> };
        return { ...rest, keys: Object.keys({ ...data, ...stringData }).sort() };
      });
      return objects.map(yaml).join('---\n');
    }),
    part('cluster/namespace.yaml', `Namespace ${namespace}`, async () => {
      const ns = await kube.get('Namespace', namespace);
      if (!ns) throw new Error(`namespace ${namespace} does not exist`);
      return yaml(tidy(ns));
    }),
    part('cluster/events.yaml', `events of namespace ${namespace}, oldest first`, async () => {
      const events = (await kube.list('Event', { namespace })).map(tidy);
      const when = (e: (typeof events)[number]) => String(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '');
      return yaml(events.sort((a, b) => when(a).localeCompare(when(b))));
    }),
    ...OBJECT_KINDS.map((kind) => part(`cluster/${kind.toLowerCase()}s.yaml`, `${kind}s of the release`, async () => yaml((await kube.list(kind, { namespace, labelSelector: selector })).map(tidy)))),
    part('versions.json', 'versions of mmoctl, helm, Kubernetes and Node.js', async () =>
      json({ mmoctl: CLI_VERSION, helm: helm.binary.version, kubernetes: (await kube.version()).gitVersion, node: process.version }),
    ),
    logsAndNodes(),
  ]);
  add('cluster/secrets.yaml', 'Secrets of the namespace: names, types and key names only', yaml(redaction.secrets));

  async function logsAndNodes(): Promise<void> {
    let pods: V1Pod[];
    try {
      pods = await kube.list('Pod', { namespace, labelSelector: selector });
    } catch (err) {
      lack('logs/', 'container logs', `the pods could not be listed: ${readError(err)}`);
      lack('cluster/nodes.yaml', 'nodes the release runs on', `the pods could not be listed: ${readError(err)}`);
      return;
    }
    const nodeNames = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))].sort();
    const logs: { pod: string; container: string; previous: boolean }[] = [];
    for (const p of pods) {
      const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
      for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])]) {
        logs.push({ pod: p.metadata!.name!, container: c.name, previous: false });
        if ((statuses.find((s) => s.name === c.name)?.restartCount ?? 0) > 0) logs.push({ pod: p.metadata!.name!, container: c.name, previous: true });
      }
    }
    await Promise.all([
      part('cluster/nodes.yaml', 'nodes the release runs on', async () => {
        const nodes = await Promise.all(nodeNames.map((n) => kube.get('Node', n)));
        // The image list of a node is long and says nothing about the release.
        return yaml(nodes.filter(Boolean).map((n) => ({ ...tidy(n!), status: { ...n!.status, images: undefined } })));
      }),
      pool(logs, LOG_CONCURRENCY, (l) =>
        part(`logs/${l.pod}/${l.container}${l.previous ? '.previous' : ''}.log`, `log of container ${l.container} of pod ${l.pod}${l.previous ? ' before its last restart' : ''} (last ${LOG_TAIL_LINES} lines)`, () =>
          kube.logs(namespace, l.pod, l.container, { tailLines: LOG_TAIL_LINES, previous: l.previous }),
        ),
      ),
    ]);
  }

  const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
  return {
    createdAt: now.toISOString(),
    parts: parts.sort(byPath),
    missing: missing.sort(byPath),
    secrets: redaction.secrets,
    redaction: { values: redaction.values, tooShort: redaction.tooShort },
  };
}

/**
 * Preflight of the bundled chart with a release's current values (what `helm get values` returns,
 * written to a private temporary values file): would an upgrade with the same values pass today?
 */
export async function preflightWithValues(ref: ReleaseRef, values: Record<string, unknown>, helm: () => Promise<Helm>, kube: () => Promise<Kube>): Promise<PreflightReport> {
  const dir = await mkdtemp(join(tmpdir(), 'mmoctl-values-'));
  const chart = await resolveChart(undefined, undefined, { pull: async (...a) => (await helm()).pull(...a) });
  try {
    const file = join(dir, 'release-values.yaml');
    await writeFile(file, yaml(values), { mode: 0o600 });
    return await runPreflight({ ref, chart, inputs: { files: [file], sets: [] }, createNamespace: false, helm, kube });
  } finally {
    await Promise.all([rm(dir, { recursive: true, force: true }), chart.dispose()]);
  }
}
