/**
 * After install or upgrade: is the release really serving? Every workload has its pods ready, every
 * Service has ready endpoints, and the chart's own test (a bot joining through the game Service,
 * `helm test`) passes. Reads are retried for a short while, since controllers report a moment after
 * helm returns.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LABELS } from '../../contract/labels.ts';
import type { Helm, HelmTestResult, ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';

export interface WorkloadState {
  readonly kind: 'Deployment' | 'StatefulSet';
  readonly name: string;
  readonly desired: number;
  readonly ready: number;
  readonly updated: number;
  readonly ok: boolean;
}

export interface ServiceState {
  readonly name: string;
  readonly type: string;
  readonly readyEndpoints: number;
  readonly ok: boolean;
}

export interface Verification {
  readonly ok: boolean;
  readonly workloads: readonly WorkloadState[];
  readonly services: readonly ServiceState[];
  readonly test?: HelmTestResult;
  /** What is not right, one sentence each. */
  readonly problems: readonly string[];
}

/** Reads the release's workloads and Services once. */
export async function readServing(kube: Kube, ref: ReleaseRef): Promise<Pick<Verification, 'workloads' | 'services'>> {
  const labelSelector = `${LABELS.instance}=${ref.release}`;
  const [deployments, statefulSets, services, slices] = await Promise.all([
    kube.list('Deployment', { namespace: ref.namespace, labelSelector }),
    kube.list('StatefulSet', { namespace: ref.namespace, labelSelector }),
    kube.list('Service', { namespace: ref.namespace, labelSelector }),
    kube.list('EndpointSlice', { namespace: ref.namespace }),
  ]);
  const workloads: WorkloadState[] = [
    ...deployments.map((d) => {
      const desired = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      const current = s.observedGeneration === undefined || s.observedGeneration >= (d.metadata?.generation ?? 0);
      return { kind: 'Deployment' as const, name: d.metadata!.name!, desired, ready: s.readyReplicas ?? 0, updated: s.updatedReplicas ?? 0, ok: current && (s.readyReplicas ?? 0) >= desired && (s.updatedReplicas ?? 0) >= desired };
    }),
    ...statefulSets.map((d) => {
      const desired = d.spec?.replicas ?? 1;
      const s = d.status ?? { replicas: 0 };
      return { kind: 'StatefulSet' as const, name: d.metadata!.name!, desired, ready: s.readyReplicas ?? 0, updated: s.updatedReplicas ?? 0, ok: (s.readyReplicas ?? 0) >= desired };
    }),
  ];
  const ready = (svc: string) =>
    slices
      .filter((sl) => sl.metadata?.labels?.['kubernetes.io/service-name'] === svc)
      .reduce((n, sl) => n + (sl.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length, 0);
  const servicesState = services.map((svc) => {
    const n = ready(svc.metadata!.name!);
    return { name: svc.metadata!.name!, type: svc.spec?.type ?? 'ClusterIP', readyEndpoints: n, ok: n > 0 };
  });
  return { workloads, services: servicesState };
}

/** Waits (up to `settleSeconds`) for workloads and Services to be serving, then runs `helm test` if asked. */
export async function verifyRelease(kube: Kube, helm: Helm, ref: ReleaseRef, opts: { test: boolean; settleSeconds: number; timeoutSeconds: number }): Promise<Verification> {
  const deadline = Date.now() + opts.settleSeconds * 1000;
  let state = await readServing(kube, ref);
  while (![...state.workloads, ...state.services].every((x) => x.ok) && Date.now() < deadline) {
    await sleep(1000);
    state = await readServing(kube, ref);
  }
  const problems = [
    ...state.workloads.filter((w) => !w.ok).map((w) => `${w.kind} ${w.name} has ${w.ready} of ${w.desired} pods ready`),
    ...state.services.filter((s) => !s.ok).map((s) => `Service ${s.name} has no ready endpoint`),
  ];
  let test: HelmTestResult | undefined;
  if (opts.test && problems.length === 0) {
    test = await helm.test(ref, { timeoutSeconds: opts.timeoutSeconds });
    if (!test.ok) problems.push(`helm test failed: ${test.output}`);
  }
  return { ok: problems.length === 0, ...state, test, problems };
}
