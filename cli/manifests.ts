/**
 * Rendered manifests as plain objects, and the arithmetic the checks and status do on them: pod
 * templates of workloads, resource requests, Kubernetes quantities.
 */
import type { KubernetesObject, V1Container, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** One rendered object. */
export interface Manifest extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** Objects of a multi-document YAML stream (empty documents dropped). */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null && typeof m === 'object' && typeof m.kind === 'string');
}

/** `Kind/name`, how users and kubectl name an object. */
export function objectName(m: { kind?: string; metadata?: { name?: string } }): string {
  return `${m.kind}/${m.metadata?.name}`;
}

/** A workload's pod template and how many pods it asks for. */
export interface PodTemplate {
  readonly owner: Manifest;
  readonly replicas: number;
  readonly template: V1PodTemplateSpec & { spec: V1PodSpec };
}

/** Pod templates of Deployments, StatefulSets, DaemonSets, Jobs and bare Pods. */
export function podTemplates(objects: readonly Manifest[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const m of objects) {
    const spec = m.spec as { replicas?: number; template?: V1PodTemplateSpec } | undefined;
    if (m.kind === 'Pod') out.push({ owner: m, replicas: 1, template: { metadata: m.metadata, spec: m.spec as unknown as V1PodSpec } });
    else if (spec?.template?.spec) {
      const replicas = m.kind === 'Job' ? 1 : (spec.replicas ?? 1);
      out.push({ owner: m, replicas, template: spec.template as PodTemplate['template'] });
    }
  }
  return out;
}

export interface Resources {
  /** CPU in cores. */
  readonly cpu: number;
  /** Memory in bytes. */
  readonly memory: number;
}

/**
 * What the scheduler reserves for one pod: the larger of the sum of its containers' requests and the
 * largest init container's (init containers run one at a time, before the others), plus overhead.
 */
export function podRequests(spec: V1PodSpec): Resources {
  const req = (c: V1Container, r: 'cpu' | 'memory') => parseQuantity(c.resources?.requests?.[r] ?? '0');
  const sum = (r: 'cpu' | 'memory') => (spec.containers ?? []).reduce((a, c) => a + req(c, r), 0);
  const init = (r: 'cpu' | 'memory') => Math.max(0, ...(spec.initContainers ?? []).map((c) => req(c, r)));
  const overhead = (r: 'cpu' | 'memory') => parseQuantity(spec.overhead?.[r] ?? '0');
  return { cpu: Math.max(sum('cpu'), init('cpu')) + overhead('cpu'), memory: Math.max(sum('memory'), init('memory')) + overhead('memory') };
}

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity (`250m`, `1.5`, `512Mi`, `1e3`) in base units; NaN when it is not one. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(q.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * SUFFIX[m[3] ?? '']!;
}

/** CPU for people: `250m`, `1.5`. */
export function formatCpu(cores: number): string {
  return cores < 1 ? `${Math.round(cores * 1000)}m` : `${Number(cores.toFixed(2))}`;
}

/** Memory for people: `512Mi`, `1.5Gi`. */
export function formatMemory(bytes: number): string {
  if (bytes >= 2 ** 30) return `${Number((bytes / 2 ** 30).toFixed(1))}Gi`;
  return `${Math.round(bytes / 2 ** 20)}Mi`;
}

/** True for objects helm creates as hooks (migration Job, test pod), not as part of the release. */
export function isHook(m: Manifest): boolean {
  return Boolean(m.metadata.annotations?.['helm.sh/hook']);
}
