/**
 * After install or upgrade: is the release really serving? Every workload has its pods ready, every
 * Service has ready endpoints, and the chart's own test (a bot joining through the game Service,
 * `helm test`) passes. Reads are retried for a short while, since controllers report a moment after
 * helm returns.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { LABELS } from '../../contract/labels.ts';
import type { Helm, HelmTestResult, ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import { countEndpoints, deploymentRolledOut, statefulSetRolledOut } from '../kube/readiness.ts';

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
  const workload = (kind: WorkloadState['kind'], o: V1Deployment | V1StatefulSet, rolledOut: boolean): WorkloadState => {
    const desired = o.spec?.replicas ?? 1;
    const ready = o.status?.readyReplicas ?? 0;
    return { kind, name: o.metadata!.name!, desired, ready, updated: o.status?.updatedReplicas ?? 0, ok: rolledOut && ready >= desired };
  };
  const workloads = [...deployments.map((d) => workload('Deployment', d, deploymentRolledOut(d))), ...statefulSets.map((s) => workload('StatefulSet', s, statefulSetRolledOut(s)))];
  const servicesState = services.map((svc) => {
    const n = countEndpoints(svc.metadata!.name!, slices)?.ready ?? 0;
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
