/**
 * The release's namespace. When install creates it, it gets Pod Security labels that match the
 * values: "restricted" (every pod of the chart passes it) unless a host UDP mode needs "privileged".
 */
import type { Kube } from '../kube/kube.ts';

export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

export interface NamespaceOutcome {
  readonly name: string;
  readonly created: boolean;
  /** The enforced Pod Security level (undefined: the cluster default, no label). */
  readonly podSecurity?: string;
}

/** Pod Security labels of a namespace mmoctl creates: the same level enforced, warned about and audited. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/warn': level, 'pod-security.kubernetes.io/audit': level };
}

/** The namespace as it is, or created with `level` when missing and `create` is set; undefined when missing. */
export async function ensureNamespace(kube: Kube, name: string, level: PodSecurityLevel, create: boolean): Promise<NamespaceOutcome | undefined> {
  const ns = await kube.get('Namespace', name);
  if (ns) return { name, created: false, podSecurity: ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'] };
  if (!create) return undefined;
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...podSecurityLabels(level), 'app.kubernetes.io/managed-by': 'mmoctl' } } });
  return { name, created: true, podSecurity: level };
}
