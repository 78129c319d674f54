/**
 * What each Kubernetes object says, in status's terms: pure functions from API objects to the plain
 * data of model.ts (a pod's state in one word, whether a workload has rolled out, which metric of an
 * autoscaler is unknown and why). collect.ts reads the objects; nothing here does I/O.
 */
import type {
  CoreV1Event,
  V1ContainerStatus,
  V1Deployment,
  V1EndpointSlice,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
  V2MetricSpec,
  V2MetricStatus,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { LABELS, TRACKS, type Track } from '../../contract/labels.ts';
import { PORT_NAMES } from '../../contract/ports.ts';
import { countEndpoints, deploymentRolledOut, statefulSetRolledOut } from '../kube/readiness.ts';
import type {
  AutoscalerMetric,
  AutoscalerStatus,
  DisruptionBudgetStatus,
  EventSummary,
  LastRestart,
  PlayersSource,
  PodStatus,
  ServiceRole,
  ServiceStatus,
  VolumeStatus,
  WorkloadStatus,
} from './model.ts';

/** The label nodes carry their zone in. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

const iso = (d: Date | string | undefined | null): string | null => (d ? new Date(d).toISOString() : null);

export function trackOf(labels: Record<string, string> | undefined): Track | null {
  const t = labels?.[LABELS.track];
  return (TRACKS as readonly string[]).includes(t ?? '') ? (t as Track) : null;
}

/** Deployment or StatefulSet that owns a pod: a StatefulSet directly, a Deployment through its ReplicaSet. */
export function podWorkload(p: V1Pod): string | null {
  const owner = p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
  if (!owner) return null;
  if (owner.kind === 'StatefulSet') return owner.name;
  const hash = p.metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}

function statuses(p: V1Pod): V1ContainerStatus[] {
  return [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
}

export function podRestarts(p: V1Pod): number {
  return statuses(p).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

export function isPodReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** The container that stopped last, and how. */
export function lastRestart(p: V1Pod): LastRestart | null {
  let best: LastRestart | null = null;
  for (const c of statuses(p)) {
    const t = c.lastState?.terminated;
    if (!t || !c.restartCount) continue;
    const at = iso(t.finishedAt);
    if (!best || (at ?? '') > (best.at ?? '')) best = { container: c.name, reason: t.reason ?? null, exitCode: t.exitCode ?? null, at };
  }
  return best;
}

/** A pod's state in one word (as `kubectl get pods` says it) and the cluster's message about it. */
export function podState(p: V1Pod): { state: string; message: string | null } {
  if (p.metadata?.deletionTimestamp) return { state: 'Terminating', message: null };
  const phase = p.status?.phase ?? 'Unknown';
  const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (phase === 'Pending' && scheduled?.status === 'False') return { state: scheduled.reason ?? 'Unschedulable', message: scheduled.message ?? null };
  // Init containers first: a pod stuck before its server starts says so there.
  for (const c of statuses(p)) {
    const w = c.state?.waiting;
    if (w?.reason && w.reason !== 'PodInitializing') return { state: w.reason, message: w.message ?? null };
  }
  for (const c of p.status?.containerStatuses ?? []) {
    const t = c.state?.terminated;
    if (t && phase === 'Running') return { state: t.reason ?? 'Terminated', message: t.message ?? null };
  }
  if (phase === 'Running' && !isPodReady(p)) {
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    return { state: 'NotReady', message: ready?.message ?? null };
  }
  return { state: phase, message: null };
}

export function summarizePod(p: V1Pod, zones: ReadonlyMap<string, string>, players: PlayersSource): PodStatus {
  const labels = p.metadata?.labels ?? {};
  const node = p.spec?.nodeName ?? null;
  const { state, message } = podState(p);
  return {
    name: p.metadata?.name ?? '',
    component: labels[LABELS.component] ?? '',
    track: trackOf(labels),
    workload: podWorkload(p),
    phase: p.status?.phase ?? 'Unknown',
    ready: isPodReady(p),
    state,
    message,
    restarts: podRestarts(p),
    lastRestart: lastRestart(p),
    node,
    zone: node ? (zones.get(node) ?? null) : null,
    createdAt: iso(p.metadata?.creationTimestamp),
    image: p.spec?.containers?.[0]?.image ?? null,
    version: labels[LABELS.version] ?? null,
    players: null,
    playersSource: players,
  };
}

/** A workload of the release that the cluster does not hold. */
export function missingWorkload(kind: WorkloadStatus['kind'], name: string, component: string, track: Track | null): WorkloadStatus {
  return { kind, name, component, track, missing: true, desired: 0, ready: 0, updated: 0, current: 0, available: 0, restarts: 0, image: null, version: null, rolledOut: false };
}

export function summarizeDeployment(d: V1Deployment, restarts: number): WorkloadStatus {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const current = s.replicas ?? 0;
  return {
    kind: 'Deployment',
    name: d.metadata?.name ?? '',
    component: d.metadata?.labels?.[LABELS.component] ?? '',
    track: trackOf(d.metadata?.labels),
    missing: false,
    desired,
    ready: s.readyReplicas ?? 0,
    updated,
    current,
    available: s.availableReplicas ?? 0,
    restarts,
    image: d.spec?.template?.spec?.containers?.[0]?.image ?? null,
    version: d.spec?.template?.metadata?.labels?.[LABELS.version] ?? null,
    rolledOut: deploymentRolledOut(d),
  };
}

export function summarizeStatefulSet(s: V1StatefulSet, restarts: number): WorkloadStatus {
  const desired = s.spec?.replicas ?? 1;
  const st = s.status ?? { replicas: 0 };
  const updated = st.updatedReplicas ?? 0;
  return {
    kind: 'StatefulSet',
    name: s.metadata?.name ?? '',
    component: s.metadata?.labels?.[LABELS.component] ?? '',
    track: null,
    missing: false,
    desired,
    ready: st.readyReplicas ?? 0,
    updated,
    current: st.replicas ?? 0,
    available: st.availableReplicas ?? st.readyReplicas ?? 0,
    restarts,
    image: s.spec?.template?.spec?.containers?.[0]?.image ?? null,
    version: s.spec?.template?.metadata?.labels?.[LABELS.version] ?? null,
    rolledOut: statefulSetRolledOut(s),
  };
}

function metricName(m: V2MetricSpec | V2MetricStatus): string {
  return m.resource?.name ?? m.containerResource?.name ?? m.pods?.metric.name ?? m.object?.metric.name ?? m.external?.metric.name ?? '?';
}

type Target = { type?: string; averageUtilization?: number; averageValue?: string; value?: string };
type Current = { averageUtilization?: number; averageValue?: string; value?: string };

function targetOf(m: V2MetricSpec): Target | undefined {
  return m.resource?.target ?? m.containerResource?.target ?? m.pods?.target ?? m.object?.target ?? m.external?.target;
}

function currentOf(m: V2MetricStatus): Current | undefined {
  return m.resource?.current ?? m.containerResource?.current ?? m.pods?.current ?? m.object?.current ?? m.external?.current;
}

/** What an autoscaler scales on, each metric's target and current value (null when it has none), and why values are unknown. */
export function summarizeAutoscaler(h: V2HorizontalPodAutoscaler): AutoscalerStatus {
  const current = h.status?.currentMetrics ?? [];
  const metrics: AutoscalerMetric[] = (h.spec?.metrics ?? []).map((m) => {
    const t = targetOf(m);
    const seen = current.find((c) => c.type === m.type && metricName(c) === metricName(m));
    const c = seen ? currentOf(seen) : undefined;
    const utilization = t?.type === 'Utilization' || t?.averageUtilization !== undefined;
    const cur = utilization ? (c?.averageUtilization !== undefined ? `${c.averageUtilization}%` : null) : (c?.averageValue ?? c?.value ?? null);
    return {
      name: metricName(m),
      type: m.type,
      target: utilization ? `${t?.averageUtilization ?? '?'}%` : String(t?.averageValue ?? t?.value ?? '?'),
      current: cur,
    };
  });
  const conditions = (h.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? null, message: c.message ?? null }));
  const active = conditions.find((c) => c.type === 'ScalingActive');
  const unknownReason = active?.status === 'False' ? [active.reason, active.message].filter(Boolean).join(': ') || 'ScalingActive is False' : null;
  const min = h.spec?.minReplicas ?? 1;
  const desired = h.status?.desiredReplicas;
  return {
    name: h.metadata?.name ?? '',
    missing: false,
    current: h.status?.currentReplicas ?? 0,
    // An autoscaler that cannot compute reports 0 desired replicas; that is "unknown", not "scale to 0".
    desired: desired === undefined || (desired === 0 && (unknownReason !== null || min > 0)) ? null : desired,
    min,
    max: h.spec?.maxReplicas ?? 0,
    metrics,
    unknownReason,
    conditions,
  };
}

export function summarizeDisruptionBudget(p: V1PodDisruptionBudget): DisruptionBudgetStatus {
  const s = p.status;
  return {
    name: p.metadata?.name ?? '',
    missing: false,
    allowedDisruptions: s?.disruptionsAllowed ?? 0,
    currentHealthy: s?.currentHealthy ?? 0,
    desiredHealthy: s?.desiredHealthy ?? 0,
    expectedPods: s?.expectedPods ?? 0,
  };
}

/** What a Service of the release is for, from its component and its ports' contract names. */
export function serviceRole(s: V1Service): ServiceRole {
  const component = s.metadata?.labels?.[LABELS.component];
  const ports = s.spec?.ports ?? [];
  if (component !== 'game-server') return 'data';
  if (ports.some((p) => p.name === PORT_NAMES.game)) return 'players';
  if (ports.some((p) => p.name === PORT_NAMES.udp && p.protocol === 'UDP')) return 'players-udp';
  return 'internal';
}

export function summarizeService(s: V1Service, slices: readonly V1EndpointSlice[] | null): ServiceStatus {
  const name = s.metadata?.name ?? '';
  return {
    name,
    role: serviceRole(s),
    component: s.metadata?.labels?.[LABELS.component] ?? '',
    type: s.spec?.type ?? 'ClusterIP',
    missing: false,
    ports: (s.spec?.ports ?? []).map((p) => ({ name: p.name ?? null, protocol: p.protocol ?? 'TCP', port: p.port, nodePort: p.nodePort ?? null })),
    externalAddresses: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.hostname ?? i.ip ?? '').filter(Boolean),
    endpoints: countEndpoints(name, slices),
  };
}

export function summarizeVolume(c: V1PersistentVolumeClaim): VolumeStatus {
  return {
    name: c.metadata?.name ?? '',
    component: c.metadata?.labels?.[LABELS.component] ?? '',
    phase: c.status?.phase ?? 'Unknown',
    requested: c.spec?.resources?.requests?.storage ?? null,
    capacity: c.status?.capacity?.storage ?? null,
    storageClass: c.spec?.storageClassName ?? null,
  };
}

/** When an event last happened (events written by old and new APIs keep it in different fields). */
export function eventTime(e: CoreV1Event): string | null {
  return iso(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp);
}

export function summarizeEvent(e: CoreV1Event): EventSummary {
  return {
    type: e.type ?? 'Warning',
    reason: e.reason ?? '',
    object: `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`,
    message: (e.message ?? '').trim(),
    count: e.series?.count ?? e.count ?? 1,
    lastSeen: eventTime(e),
  };
}

/**
 * Whether an event is about the release: one of its objects by kind and name, or something named
 * after one of its workloads (their pods, ReplicaSets, Jobs and volume claims, also the ones that
 * are gone by now).
 */
export function aboutRelease(e: CoreV1Event, known: ReadonlySet<string>, prefixes: readonly string[]): boolean {
  const kind = e.involvedObject.kind ?? '';
  const name = e.involvedObject.name ?? '';
  if (known.has(`${kind}/${name}`)) return true;
  return prefixes.some((p) => name.startsWith(`${p}-`) || name.startsWith(`data-${p}-`));
}

/** An object of a release's manifest: its kind, name and labels, and the whole object when asked. */
export interface ManifestEntry {
  readonly kind: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Parses the whole document (only for the rare object status needs in full). */
  object<T>(): T;
}

/**
 * The objects of the given kinds in a manifest helm recorded, reading only their `metadata` blocks:
 * parsing a production release's whole manifest costs more than every API read of status together.
 * A document whose metadata block cannot be cut out is parsed whole.
 */
export function scanManifest(manifest: string, kinds: ReadonlySet<string>): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const doc of manifest.split(/^---[ \t]*$/m)) {
    const kind = /^kind:[ \t]*["']?([A-Za-z]+)["']?[ \t]*$/m.exec(doc)?.[1];
    if (!kind || !kinds.has(kind)) continue;
    const block = /^metadata:[ \t]*\n((?:(?:[ \t]+.*)?\n?)+)/m.exec(doc)?.[1];
    const meta = ((block ? (parse(`metadata:\n${block}`) as { metadata?: unknown }) : (parse(doc) as { metadata?: unknown }))?.metadata ?? {}) as { name?: string; labels?: Record<string, string> };
    if (!meta.name) continue;
    out.push({ kind, name: meta.name, labels: meta.labels ?? {}, object: <T>() => parse(doc) as T });
  }
  return out;
}
