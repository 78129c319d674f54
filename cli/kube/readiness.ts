/**
 * Readiness as the workload controllers report it, read the same way by `mmoctl status` and by the
 * verification after install and upgrade: whether a workload has rolled out, and how many ready
 * endpoints a Service has. Pure functions over API objects.
 */
import type { V1Deployment, V1EndpointSlice, V1StatefulSet } from '@kubernetes/client-node';

/**
 * The controller has acted on the Deployment's latest spec and every pod runs that template. Pods
 * that are not ready for other reasons do not make a rollout: compare `readyReplicas` for those.
 */
export function deploymentRolledOut(d: V1Deployment): boolean {
  const s = d.status ?? {};
  const desired = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && updated >= desired && (s.replicas ?? 0) <= updated;
}

/** The StatefulSet's controller has acted on its latest spec and every pod runs the update revision. */
export function statefulSetRolledOut(s: V1StatefulSet): boolean {
  const st = s.status ?? { replicas: 0 };
  const sameRevision = !st.updateRevision || st.updateRevision === st.currentRevision;
  return (st.observedGeneration ?? 0) >= (s.metadata?.generation ?? 0) && sameRevision && (st.updatedReplicas ?? 0) >= (s.spec?.replicas ?? 1);
}

/**
 * Ready and not-ready endpoints of a Service across its EndpointSlices (an endpoint counted once even
 * when dual-stack slices list it twice); null when the slices could not be read.
 */
export function countEndpoints(service: string, slices: readonly V1EndpointSlice[] | null): { ready: number; notReady: number } | null {
  if (!slices) return null;
  const ready = new Set<string>();
  const notReady = new Set<string>();
  for (const s of slices) {
    if (s.metadata?.labels?.['kubernetes.io/service-name'] !== service) continue;
    for (const e of s.endpoints ?? []) {
      const id = e.targetRef?.name ?? e.addresses[0] ?? '';
      // The API says an unset `ready` means ready.
      if (e.conditions?.ready === false) notReady.add(id);
      else ready.add(id);
    }
  }
  for (const id of ready) notReady.delete(id);
  return { ready: ready.size, notReady: notReady.size };
}
