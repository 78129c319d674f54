/**
 * Checks over rendered manifests that the chart promises (PodSecurity "restricted", resources, probes,
 * NetworkPolicy coverage). Pure functions returning problem lists, reusable by the rig's suites.
 */
import type { Container, PodSpec } from './chart.ts';

const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** Where a pod breaks PodSecurity "restricted" (Kubernetes pod security standards, v1.27+). */
export function restrictedViolations(name: string, spec: PodSpec): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork) out.push(`${name}: hostNetwork`);
  for (const key of ['hostPID', 'hostIPC']) if (spec[key]) out.push(`${name}: ${key}`);
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.has(type)) out.push(`${name}: volume ${v.name} of type ${type}`);
  }
  const podSeccomp = (pod.seccompProfile as { type?: string } | undefined)?.type;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const where = `${name}/${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.privileged) out.push(`${where}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation is not false`);
    const caps = (sc.capabilities ?? {}) as { drop?: string[]; add?: string[] };
    if (!caps.drop?.includes('ALL')) out.push(`${where}: capabilities.drop lacks ALL`);
    for (const cap of caps.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${where}: adds capability ${cap}`);
    if (sc.runAsNonRoot !== true && pod.runAsNonRoot !== true) out.push(`${where}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0 || (sc.runAsUser === undefined && pod.runAsUser === 0)) out.push(`${where}: runs as uid 0`);
    const seccomp = (sc.seccompProfile as { type?: string } | undefined)?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${where}: seccompProfile is ${seccomp ?? 'unset'}`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${where}: hostPort ${p.hostPort}`);
  }
  return out;
}

/** Containers without CPU and memory requests and limits. */
export function resourceViolations(name: string, spec: PodSpec): string[] {
  const out: string[] = [];
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const kind of ['requests', 'limits'] as const) {
      for (const res of ['cpu', 'memory']) if (!c.resources?.[kind]?.[res]) out.push(`${name}/${c.name}: no ${kind}.${res}`);
    }
  }
  return out;
}

/** Containers whose root filesystem is writable. */
export function writableRootViolations(name: string, spec: PodSpec): string[] {
  return [...(spec.initContainers ?? []), ...spec.containers]
    .filter((c: Container) => c.securityContext?.readOnlyRootFilesystem !== true)
    .map((c) => `${name}/${c.name}: readOnlyRootFilesystem is not true`);
}

/** True when every matchLabels entry is among the labels (NetworkPolicy/Service selector semantics). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}
