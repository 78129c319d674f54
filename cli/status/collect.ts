/**
 * Reads everything `mmoctl status` reports, in parallel, through the `Kube` and `Helm` interfaces,
 * and returns plain data (model.ts). It never stops at the first error: a read that fails (a 403,
 * a timeout) becomes an issue on the component it was for and the rest is still read. Only what
 * leaves nothing to report ends it: no helm, no kubeconfig, an unreachable API server, or no such
 * release.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Node } from '@kubernetes/client-node';
import { COMPONENTS, LABELS, TRACKS, type Track } from '../../contract/labels.ts';
import { METRICS } from '../../contract/metrics.ts';
import { describeError, FailedError } from '../errors.ts';
import type { Helm, HelmRelease, HelmRevision, ReleaseRef } from '../helm/helm.ts';
import { KubeError, type Kind, type Kinds, type Kube } from '../kube/kube.ts';
import {
  DATA_SERVICE_IDS,
  EVENT_WINDOW_MS,
  type ComponentId,
  type CostSettings,
  type CostStatus,
  type DataServiceStatus,
  type GameServers,
  type PlayersSource,
  type PodStatus,
  type ReadIssue,
  type ReleaseSummary,
  type StatusData,
  type TrackStatus,
  type WorkloadStatus,
} from './model.ts';
import type { TrackStats } from '../canary/analysis.ts';
import type { ChosenSource } from '../metrics/choose.ts';
import type { MetricsSource } from '../metrics/source.ts';
import { readCost } from './cost.ts';
import { playersByPod, trackStats } from '../metrics/window.ts';
import {
  aboutRelease,
  eventTime,
  missingWorkload,
  scanManifest,
  summarizeAutoscaler,
  summarizeDeployment,
  summarizeDisruptionBudget,
  summarizeEvent,
  summarizePod,
  summarizeService,
  summarizeStatefulSet,
  summarizeVolume,
  trackOf,
  ZONE_LABEL,
  type ManifestEntry,
} from './objects.ts';

/** Kinds of the manifest status compares with the cluster (to tell a deleted object from one never made). */
const MANIFEST_KINDS = new Set(['Deployment', 'StatefulSet', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
/** Hook kinds whose events status reports (the migration Job and its pods). */
const HOOK_KINDS = new Set(['Job']);

/** Where status reads from; each is asked for once, and both at the same time. */
export interface StatusSources {
  readonly kube: () => Promise<Kube>;
  readonly helm: () => Promise<Helm>;
  /** Where the game servers' own numbers come from; absent: players stay unknown. */
  readonly metrics?: (kube: Kube) => Promise<ChosenSource>;
  /** The release's `cost.*`, undefined when it is off: status then shows the cost per player-hour (needs `metrics`). */
  readonly cost?: () => Promise<CostSettings | undefined>;
  /** Window of a pod-proxy read (two scrapes this far apart); Prometheus looks back a minute. Default 2 s. */
  readonly metricsWindowMs?: number;
  /** Default: the wall clock. */
  readonly now?: () => Date;
}

/** helm has no release of this name in this namespace (exit 3). */
export class ReleaseNotFound extends FailedError {
  constructor(ref: ReleaseRef) {
    super(`release "${ref.release}" not found in namespace "${ref.namespace}".`, {
      hint: 'Check --release and -n (or MMOCTL_RELEASE and MMOCTL_NAMESPACE); `helm list -A` lists the releases of every namespace, and `mmoctl install` creates one.',
    });
  }
}

/** Player numbers when no metrics source was asked for. */
export const PLAYERS_UNAVAILABLE: GameServers['players'] = {
  source: 'unavailable',
  note: `live player counts come from the ${METRICS.activePlayers.name} metric; no metrics source was read`,
  total: null,
};
const PLAYERS: PlayersSource = PLAYERS_UNAVAILABLE.source;

/**
 * What went wrong with a read, in one line: a KubeError's own message (describeError would append
 * client-node's whole HTTP exchange, headers included, from its cause).
 */
export function readError(err: unknown): string {
  return err instanceof KubeError ? err.message : describeError(err);
}

/** Everything the release's objects say now. Rejects only when nothing can be reported (see above). */
export async function collectStatus(ref: ReleaseRef, sources: StatusSources): Promise<StatusData> {
  const t0 = performance.now();
  const now = (sources.now ?? (() => new Date()))();
  const { namespace, release } = ref;
  const issues: ReadIssue[] = [];
  // Started together: the helm binary's version check and the kubeconfig load overlap.
  const helmP = sources.helm();
  const kubeP = sources.kube();
  helmP.catch(() => {});
  kubeP.catch(() => {});

  /** Runs one read; a failure becomes an issue on `components` (an unreachable cluster ends it all). */
  const read = async <T>(components: readonly ComponentId[], what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KubeError && err.unreachable) throw err;
      const message = readError(err);
      const forbidden = (err instanceof KubeError && err.status === 403) || /forbidden/i.test(message);
      for (const component of components) issues.push({ component, read: what, message, forbidden });
      return null;
    }
  };
  const selector = `${LABELS.instance}=${release}`;
  const list = <K extends Kind>(kind: K, components: readonly ComponentId[], opts: { fieldSelector?: string; labelSelector?: string } = { labelSelector: selector }) =>
    kubeP.then((kube) => read(components, kind, () => kube.list(kind, { namespace, ...opts })));

  const [[rel, history], deployments, statefulSets, pods, services, slices, hpas, pdbs, pvcs, events] = await Promise.all([
    helmP.then(async (helm) => {
      const rel = await read(['release'], 'helm status', () => helm.status(ref));
      // Only a release that is not deployed needs its history: to name the revision a rollback returns to.
      const history = rel && rel.status !== 'deployed' ? await read(['release'], 'helm history', () => helm.history(ref)) : null;
      return [rel, history] as const;
    }),
    list('Deployment', ['game-server', 'canary']),
    list('StatefulSet', DATA_SERVICE_IDS),
    list('Pod', ['game-server']),
    list('Service', ['services']),
    list('EndpointSlice', ['services']),
    list('HorizontalPodAutoscaler', ['autoscaler']),
    list('PodDisruptionBudget', ['disruption-budget']),
    list('PersistentVolumeClaim', ['volumes']),
    list('Event', ['events'], { fieldSelector: 'type=Warning' }),
  ]);
  if (rel === undefined) throw new ReleaseNotFound(ref);

  const kube = await kubeP;
  const nodeNames = [...new Set((pods ?? []).map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
  const nodes = await read(['nodes'], 'Node', () => Promise.all(nodeNames.map((n) => kube.get('Node', n))));
  const zones = new Map((nodes ?? []).filter((n): n is V1Node => Boolean(n)).map((n) => [n.metadata?.name ?? '', n.metadata?.labels?.[ZONE_LABEL] ?? '']));

  let expected: ManifestEntry[] = [];
  if (rel) {
    try {
      expected = [...scanManifest(rel.manifest ?? '', MANIFEST_KINDS), ...scanManifest((rel.hooks ?? []).join('\n---\n'), HOOK_KINDS).map((h) => ({ ...h, hook: true }))];
    } catch (err) {
      issues.push({ component: 'release', read: 'helm status', message: `the release's manifest does not parse: ${describeError(err)}`, forbidden: false });
    }
  }
  const hooks = expected.filter((m) => 'hook' in m);
  const expect = (kind: string) => expected.filter((m) => m.kind === kind && !('hook' in m));

  const podStatuses = (pods ?? []).map((p) => summarizePod(p, zones, PLAYERS));
  const restartsOf = (workload: string) => podStatuses.filter((p) => p.workload === workload).reduce((n, p) => n + p.restarts, 0);

  const workloads: WorkloadStatus[] = [];
  const addMissing = <K extends 'Deployment' | 'StatefulSet'>(kind: K, live: readonly Kinds[K][] | null) => {
    if (!live) return; // unknown, not missing: the read failed
    for (const m of expect(kind)) {
      if (!live.some((o) => o.metadata?.name === m.name)) workloads.push(missingWorkload(kind, m.name, m.labels[LABELS.component] ?? '', trackOf(m.labels)));
    }
  };
  for (const d of deployments ?? []) workloads.push(summarizeDeployment(d, restartsOf(d.metadata?.name ?? '')));
  addMissing('Deployment', deployments);
  for (const s of statefulSets ?? []) workloads.push(summarizeStatefulSet(s, restartsOf(s.metadata?.name ?? '')));
  addMissing('StatefulSet', statefulSets);
  workloads.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));

  const gameWorkload = (track: Track) => workloads.find((w) => w.kind === 'Deployment' && w.component === COMPONENTS.gameServer && (w.track ?? 'stable') === track);
  const stable = gameWorkload('stable');
  const canary = gameWorkload('canary');

  const gamePods = podStatuses.filter((p) => p.component === COMPONENTS.gameServer).sort((a, b) => (a.track ?? '').localeCompare(b.track ?? '') || a.name.localeCompare(b.name));
  const tracks = TRACKS.filter((t) => t === 'stable' || gameWorkload(t) || gamePods.some((p) => p.track === t)).map((track) => {
    const own = gamePods.filter((p) => (p.track ?? 'stable') === track);
    return {
      track,
      deployment: gameWorkload(track)?.name ?? null,
      pods: own.length,
      ready: own.filter((p) => p.ready).length,
      restarts: own.reduce((n, p) => n + p.restarts, 0),
      players: null,
      playersSource: PLAYERS,
      ackP95Ms: null,
      tickP99Ms: null,
    };
  });
  const live = sources.metrics ? await readLiveNumbers(await kubeP, ref, gamePods, sources).catch((err: unknown) => ({ error: readError(err) })) : undefined;
  let playersInfo: GameServers['players'] = PLAYERS_UNAVAILABLE;
  let cost: CostStatus | undefined;
  let gamePodsShown = gamePods;
  let tracksShown: TrackStatus[] = tracks;
  if (live && 'error' in live) playersInfo = { source: 'unavailable', note: live.error, total: null };
  else if (live) {
    playersInfo = { source: live.source, note: live.note, total: live.total };
    gamePodsShown = gamePods.map((p) => {
      const n = live.byPod.get(p.name) ?? null;
      return { ...p, players: n, playersSource: n === null ? 'unavailable' : live.source };
    });
    tracksShown = tracks.map((t) => {
      const s = live.byTrack.get(t.track);
      return s ? { ...t, players: s.players, playersSource: live.source, ackP95Ms: round(s.ackP95Ms), tickP99Ms: round(s.tickP99Ms) } : t;
    });    const settings = await sources.cost?.();
    if (settings) {
      const running = (pods ?? []).filter((p) => p.metadata?.labels?.[LABELS.component] === COMPONENTS.gameServer && p.status?.phase === 'Running');
      cost = await readCost(settings, live.from, namespace, running, live.total);
    }
  }

  const targets = (name: string | undefined) => (o: { spec?: { scaleTargetRef?: { name?: string } } }) => name !== undefined && o.spec?.scaleTargetRef?.name === name;
  const hpa = (hpas ?? []).find(targets(stable?.name)) ?? hpas?.[0];
  const expectedHpa = expect('HorizontalPodAutoscaler')[0];
  const pdb = pdbs?.[0];
  const expectedPdb = expect('PodDisruptionBudget')[0];

  const serviceStatuses = (services ?? []).map((s) => summarizeService(s, slices));
  if (services) {
    for (const m of expect('Service')) {
      if (services.some((s) => s.metadata?.name === m.name)) continue;
      const s = summarizeService(m.object<Kinds['Service']>(), slices);
      serviceStatuses.push({ ...s, missing: true, externalAddresses: [], endpoints: null });
    }
  }
  serviceStatuses.sort((a, b) => a.name.localeCompare(b.name));

  const dataServices: DataServiceStatus[] = DATA_SERVICE_IDS.map((id) => {
    const sts = workloads.find((w) => w.kind === 'StatefulSet' && w.component === id);
    const external = (rel?.config?.[id] as { enabled?: boolean; external?: { host?: string } } | undefined) ?? undefined;
    const bundledInManifest = expect('StatefulSet').some((m) => m.labels[LABELS.component] === id);
    const mode = sts || bundledInManifest ? 'bundled' : rel && statefulSets ? 'external' : 'unknown';
    return {
      name: id,
      mode,
      workload: sts?.name ?? null,
      desired: sts?.desired ?? 0,
      ready: sts?.ready ?? 0,
      host: mode === 'external' ? external?.external?.host || null : null,
    };
  });

  const known = new Set<string>(expected.map((m) => `${m.kind}/${m.name}`));
  for (const o of [...(deployments ?? []), ...(statefulSets ?? []), ...(pods ?? []), ...(services ?? []), ...(pvcs ?? []), ...(hpas ?? []), ...(pdbs ?? [])]) {
    known.add(`${o.kind}/${o.metadata?.name}`);
  }
  const prefixes = [...workloads.map((w) => w.name), ...hooks.filter((h) => h.kind === 'Job').map((h) => h.name)];
  const since = now.getTime() - EVENT_WINDOW_MS;
  const recent = (events ?? [])
    .filter((e) => aboutRelease(e, known, prefixes) && Date.parse(eventTime(e) ?? '') >= since)
    .map(summarizeEvent)
    .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '') || a.object.localeCompare(b.object));

  return {
    name: release,
    namespace,
    observedAt: now.toISOString(),
    release: rel ? releaseSummary(rel, history) : null,
    workloads,
    pods: podStatuses.filter((p) => (DATA_SERVICE_IDS as readonly string[]).includes(p.component)).sort((a, b) => a.name.localeCompare(b.name)),
    gameServers: { tracks: tracksShown, pods: gamePodsShown, players: playersInfo, ...(cost ? { cost } : {}) },
    autoscaler: hpa ? summarizeAutoscaler(hpa) : expectedHpa && hpas ? { ...summarizeAutoscaler(expectedHpa.object<Kinds['HorizontalPodAutoscaler']>()), missing: true } : null,
    disruptionBudget: pdb ? summarizeDisruptionBudget(pdb) : expectedPdb && pdbs ? { ...summarizeDisruptionBudget(expectedPdb.object<Kinds['PodDisruptionBudget']>()), missing: true } : null,
    services: serviceStatuses,
    volumes: (pvcs ?? []).map(summarizeVolume).sort((a, b) => a.name.localeCompare(b.name)),
    dataServices,
    canary: {
      present: Boolean(canary),
      deployment: canary?.name ?? null,
      image: canary?.image ?? null,
      version: canary?.version ?? null,
      desired: canary?.desired ?? 0,
      ready: canary?.ready ?? 0,
    },
    events: recent,
    issues,
    durationMs: Math.round(performance.now() - t0),
  };
}

/** helm's record of the current revision, and the revision a rollback would return to. */
function releaseSummary(r: HelmRelease, history: readonly HelmRevision[] | null): ReleaseSummary {
  const earlier = (history ?? []).filter((h) => h.revision < r.revision && (h.status === 'deployed' || h.status === 'superseded'));
  return {
    name: r.name,
    namespace: r.namespace,
    chart: r.chart,
    chartVersion: r.chartVersion,
    appVersion: r.appVersion,
    revision: r.revision,
    status: r.status,
    updated: r.updated ? new Date(r.updated).toISOString() : '',
    description: r.description,
    lastDeployed: earlier.length ? Math.max(...earlier.map((h) => h.revision)) : null,
  };
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

/** Players per pod and what each track did over a short window, from the chosen metrics source. */
async function readLiveNumbers(kube: Kube, ref: ReleaseRef, pods: readonly PodStatus[], sources: StatusSources): Promise<{ source: PlayersSource; from: MetricsSource; note: string; total: number | null; byPod: Map<string, number | null>; byTrack: Map<string, TrackStats> } | { error: string }> {
  const chosen = await sources.metrics!(kube);
  if (!chosen.source) return { error: chosen.note ?? 'no metrics source' };
  const source = chosen.source;
  const states = pods.filter((p) => p.phase === 'Running').map((p) => ({ name: p.name, track: p.track ?? 'stable', ready: p.ready, restarts: p.restarts }));
  const names = states.map((p) => p.name);
  const windowMs = source.historical ? 60_000 : (sources.metricsWindowMs ?? 2000);
  const t1 = new Date();
  const before = { at: new Date(t1.getTime() - windowMs), pods: states, samples: await source.snapshot(ref.namespace, names, source.historical ? new Date(t1.getTime() - windowMs) : undefined) };
  if (!source.historical) await sleep(windowMs);
  const after = { at: new Date(), pods: states, samples: await source.snapshot(ref.namespace, names) };
  const byPod = playersByPod(after);
  const unread = [...after.samples].filter(([, v]) => 'error' in v).map(([k, v]) => `${k}: ${'error' in v ? v.error : ''}`);
  const values = [...byPod.values()];
  const total = values.length && values.every((v) => v !== null) ? values.reduce<number>((a, v) => a + (v ?? 0), 0) : null;
  const byTrack = new Map(TRACKS.map((t) => [t, trackStats(t, before, after)]));
  const note = `${source.describe}, over ${Math.round(windowMs / 1000)} s${chosen.note ? ` (${chosen.note})` : ''}${unread.length ? `; not read: ${unread.join('; ')}` : ''}`;
  return { source: source.historical ? 'prometheus' : 'pod-metrics', from: source, note, total, byPod, byTrack };
}
