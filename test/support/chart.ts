/**
 * Renders the mmo chart with the real helm binary and parses the result, for the chart suite and for
 * suites that install it on the rig. Every helper takes the helm path explicitly, so one test can run
 * the same case with helm 3 and helm 4.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { OPERATIONS_API_VERSIONS } from '../../contract/kubernetes.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import type { Manifest } from './k8s-strict.ts';

export const CHART_DIR = join(PROJECT_ROOT, 'charts', 'mmo');
export const PRESETS_DIR = join(PROJECT_ROOT, 'values');
export const PRESETS = ['dev', 'staging', 'production'] as const;
export type Preset = (typeof PRESETS)[number];

/** Kubernetes version helm renders for (the chart needs ≥ 1.27). */
export const KUBE_VERSION = '1.33.0';

/**
 * The optional operators' kinds the toggles create: prometheus-operator's (monitoring) and Velero's
 * Schedule (backup.velero). The chart refuses them where the cluster lacks them, so offline renders
 * say the cluster has them (as one with kube-prometheus-stack and Velero does).
 */
export const MONITORING_API_VERSIONS = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule', 'velero.io/v1/Schedule'] as const;

/** Every optional kind (prometheus-operator's, KEDA's, VPA's, Istio's): what offline renders say the cluster serves by default. */
export const OPTIONAL_API_VERSIONS: readonly string[] = [...MONITORING_API_VERSIONS, ...OPERATIONS_API_VERSIONS];

export interface RenderOptions {
  /** Preset names from values/ applied first, in order. */
  presets?: readonly Preset[];
  /** Values objects applied after the presets, in order (like `-f`). */
  values?: readonly object[];
  release?: string;
  namespace?: string;
  /** Kinds the cluster is said to serve (`--api-versions`). Default OPTIONAL_API_VERSIONS; [] for a cluster without any of them. */
  apiVersions?: readonly string[];
  /** Also render templates/tests (the helm test pod). Default true. */
  includeTests?: boolean;
  /** Extra helm arguments. */
  args?: readonly string[];
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with arguments; never throws on a non-zero exit. */
export function runHelm(helm: string, args: readonly string[]): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    execFile(helm, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'mmo-helm-cache'), HELM_CONFIG_HOME: join(tmpdir(), 'mmo-helm-config'), HELM_DATA_HOME: join(tmpdir(), 'mmo-helm-data') } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

async function withValueFiles<T>(opts: RenderOptions, fn: (args: string[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mmo-values-'));
  try {
    const args: string[] = [];
    for (const preset of opts.presets ?? []) args.push('--values', join(PRESETS_DIR, `${preset}.yaml`));
    let i = 0;
    for (const values of opts.values ?? []) {
      const file = join(dir, `values-${i++}.json`);
      await writeFile(file, JSON.stringify(values));
      args.push('--values', file);
    }
    return await fn(args);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm template` with the options; resolves with helm's exit code and output. */
export function templateRaw(helm: string, opts: RenderOptions = {}): Promise<HelmResult> {
  return withValueFiles(opts, (valueArgs) =>
    runHelm(helm, [
      'template',
      opts.release ?? 'game',
      CHART_DIR,
      '--namespace',
      opts.namespace ?? 'mmo',
      '--kube-version',
      KUBE_VERSION,
      ...(opts.apiVersions ?? OPTIONAL_API_VERSIONS).flatMap((v) => ['--api-versions', v]),
      ...(opts.includeTests === false ? ['--skip-tests'] : []),
      ...valueArgs,
      ...(opts.args ?? []),
    ]),
  );
}

/** Rendered objects; rejects with helm's message when rendering fails. */
export async function render(helm: string, opts: RenderOptions = {}): Promise<Manifest[]> {
  const res = await templateRaw(helm, opts);
  if (res.code !== 0) throw new Error(`helm template failed (exit ${res.code}):\n${res.stderr}`);
  return parseManifests(res.stdout);
}

/** Parses multi-document YAML output, dropping empty documents. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null && typeof m === 'object');
}

/** `helm lint --strict` with the options. */
export function lint(helm: string, opts: RenderOptions = {}): Promise<HelmResult> {
  return withValueFiles(opts, (valueArgs) => runHelm(helm, ['lint', '--strict', CHART_DIR, '--namespace', opts.namespace ?? 'mmo', ...valueArgs]));
}

/** Pod templates of every workload (Deployment, StatefulSet, Job, CronJob, bare Pod), with the owner's name. */
export function podSpecs(manifests: readonly Manifest[]): { owner: Manifest; labels: Record<string, string>; spec: PodSpec }[] {
  const out: { owner: Manifest; labels: Record<string, string>; spec: PodSpec }[] = [];
  for (const m of manifests) {
    const body = m as unknown as { spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } } & PodSpec };
    const job = (m as unknown as { spec?: { jobTemplate?: { spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } } } } }).spec?.jobTemplate?.spec?.template;
    if (m.kind === 'Pod') out.push({ owner: m, labels: m.metadata.labels ?? {}, spec: body.spec as PodSpec });
    else if (m.kind === 'CronJob' && job?.spec) out.push({ owner: m, labels: job.metadata?.labels ?? {}, spec: job.spec });
    else if (body.spec?.template?.spec) out.push({ owner: m, labels: body.spec.template.metadata?.labels ?? {}, spec: body.spec.template.spec });
  }
  return out;
}

/** The parts of a pod spec the policy tests read. */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  volumes?: { name: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

export interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  ports?: { name?: string; containerPort: number; protocol?: string; hostPort?: number }[];
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  [k: string]: unknown;
}

/**
 * The command line of the `helm test` pod's bot container (`node client/loadtest/main.ts …`), as
 * rendered: the suites that say they run "the chart's test command" run exactly this.
 */
export function testPodCommand(manifests: readonly Manifest[]): string[] {
  const pod = manifests.find((m) => m.kind === 'Pod' && m.metadata.annotations?.['helm.sh/hook'] === 'test');
  if (!pod) throw new Error(`no helm test pod rendered; rendered: ${manifests.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  const players = (pod.spec as PodSpec).containers.find((c) => c.name === 'players');
  if (!players) throw new Error(`helm test pod ${pod.metadata.name} has no "players" container`);
  return [...((players.command as string[] | undefined) ?? []), ...((players.args as string[] | undefined) ?? [])];
}

/** Finds one object by kind and name; throws naming what exists when absent. */
export function find(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name}; rendered: ${manifests.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return m;
}
