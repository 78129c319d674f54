/**
 * What `mmoctl status` knows about a release, as plain data: `collect.ts` fills a `StatusData` from
 * the cluster and helm, `verdict.ts` judges it, and the two together are the `StatusReport` document
 * (`-o json`, schema in cli/schemas/mmoctl.schema.json). Times are ISO strings and ages are
 * computed from `observedAt`, so the same data always renders the same way.
 */
import type { Track } from '../../contract/labels.ts';
import type { ReleaseStatus } from '../helm/helm.ts';
import { document, type Document } from '../ui/output.ts';

/** The parts of a release status judges and reports on, each with its own errors and warnings; findings are listed in this order. */
export const COMPONENT_IDS = [
  'release',
  'game-server',
  'canary',
  'postgres',
  'redis',
  'rabbitmq',
  'services',
  'volumes',
  'autoscaler',
  'disruption-budget',
  'nodes',
  'events',
  'players-path',
] as const;
export type ComponentId = (typeof COMPONENT_IDS)[number];

import type { PlayersProbe } from '../probe/players.ts';

export const DATA_SERVICE_IDS = ['postgres', 'redis', 'rabbitmq'] as const;
export type DataServiceId = (typeof DATA_SERVICE_IDS)[number];

/** Warning events of this recent past are reported. */
export const EVENT_WINDOW_MS = 15 * 60_000;

/** helm's record of the release's current revision. */
export interface ReleaseSummary {
  readonly name: string;
  readonly namespace: string;
  /** `mmo-0.2.0` */
  readonly chart: string;
  readonly chartVersion: string;
  readonly appVersion: string;
  readonly revision: number;
  readonly status: ReleaseStatus;
  /** ISO time of the last install, upgrade or rollback. */
  readonly updated: string;
  /** helm's description of the last operation (its error when it failed). */
  readonly description: string;
  /**
   * When this revision is not deployed: the newest earlier one that was (what `mmoctl rollback`
   * returns to). null for a deployed revision, and when no revision was ever deployed.
   */
  readonly lastDeployed: number | null;
}

/** A Deployment or StatefulSet of the release. */
export interface WorkloadStatus {
  readonly kind: 'Deployment' | 'StatefulSet';
  readonly name: string;
  /** `app.kubernetes.io/component` */
  readonly component: string;
  /** Game server Deployments only. */
  readonly track: Track | null;
  /** True when the release holds it but the cluster does not (deleted by hand); counts are 0 then. */
  readonly missing: boolean;
  readonly desired: number;
  readonly ready: number;
  /** Pods that run the current pod template. */
  readonly updated: number;
  /** Pods in total, old template included (more than desired during a rollout). */
  readonly current: number;
  /** Pods ready for long enough to count (Deployments' `availableReplicas`; StatefulSets' ready ones). */
  readonly available: number;
  /** Container restarts of its pods, summed. */
  readonly restarts: number;
  /** The first container's image. */
  readonly image: string | null;
  /** `app.kubernetes.io/version` of its pod template. */
  readonly version: string | null;
  /** True when the controller has acted on the latest spec and every pod runs it. */
  readonly rolledOut: boolean;
}

/** One container restart (the last one). */
export interface LastRestart {
  readonly container: string;
  /** `Error`, `OOMKilled`, `Completed`… */
  readonly reason: string | null;
  readonly exitCode: number | null;
  readonly at: string | null;
}

/** Where live player numbers come from; `unavailable` until a metrics source is wired in. */
export type PlayersSource = 'unavailable' | 'prometheus' | 'pod-metrics';

/** A pod of a workload of the release. */
export interface PodStatus {
  readonly name: string;
  readonly component: string;
  readonly track: Track | null;
  /** Deployment or StatefulSet that owns it, when known. */
  readonly workload: string | null;
  readonly phase: string;
  readonly ready: boolean;
  /** One word for its state: Running, CrashLoopBackOff, Pending, Terminating, ImagePullBackOff… */
  readonly state: string;
  /** Why it is in that state, when the cluster says (scheduler or kubelet message). */
  readonly message: string | null;
  readonly restarts: number;
  readonly lastRestart: LastRestart | null;
  readonly node: string | null;
  /** `topology.kubernetes.io/zone` of its node; null when unscheduled or nodes cannot be read. */
  readonly zone: string | null;
  readonly createdAt: string | null;
  readonly image: string | null;
  readonly version: string | null;
  /** Players on this pod; null while `playersSource` is `unavailable` (never guessed). */
  readonly players: number | null;
  readonly playersSource: PlayersSource;
}

/** The game server pods of one track. */
export interface TrackStatus {
  readonly track: Track;
  readonly deployment: string | null;
  readonly pods: number;
  readonly ready: number;
  readonly restarts: number;
  readonly players: number | null;
  readonly playersSource: PlayersSource;
  /** move→ack p95 (as players report it) and tick p99 over the metrics window; null when unknown. */
  readonly ackP95Ms: number | null;
  readonly tickP99Ms: number | null;
}

export interface GameServers {
  readonly tracks: readonly TrackStatus[];
  readonly pods: readonly PodStatus[];
  /** Why player numbers are what they are (`unknown` and why, or where they come from), and all players. */
  readonly players: { readonly source: PlayersSource; readonly note: string; readonly total: number | null };
  /** What the game servers cost (values `cost.*`), when the release turns it on and the game metrics were read. */
  readonly cost?: CostStatus;
}

/** The release's `cost.*` values, as status needs them. */
export interface CostSettings {
  readonly currency: string;
  readonly cpuHourPrice: number;
  readonly gibHourPrice: number;
  /** 0: no budget. */
  readonly budgetPerPlayerHour: number;
}

/** The game servers' cost: what their pods request at the release's prices, over the players playing. */
export interface CostStatus {
  readonly currency: string;
  /** What the game server pods request, per hour; null when it could not be told. */
  readonly perHour: number | null;
  /** perHour over the players connected; null while nobody plays (or players are unknown). */
  readonly perPlayerHour: number | null;
  /** `cost.budgetPerPlayerHour`; null when there is none. */
  readonly budgetPerPlayerHour: number | null;
  /** `prometheus`: the chart's recording rules; `requests`: the pods' requests and the players counted here. */
  readonly source: 'prometheus' | 'requests';
  readonly note: string;
}

export interface AutoscalerMetric {
  /** `cpu`, `memory`, or a custom metric's name. */
  readonly name: string;
  /** `Resource`, `Pods`, `External`, `Object`, `ContainerResource` */
  readonly type: string;
  /** `70%` (utilization) or a value (`800`). */
  readonly target: string;
  /** null when the autoscaler has no value for it. */
  readonly current: string | null;
}

export interface AutoscalerCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string | null;
  readonly message: string | null;
}

export interface AutoscalerStatus {
  readonly name: string;
  readonly missing: boolean;
  readonly current: number;
  /** null when it cannot compute one. */
  readonly desired: number | null;
  readonly min: number;
  readonly max: number;
  readonly metrics: readonly AutoscalerMetric[];
  /** Why metric values are unknown (the ScalingActive condition's reason and message), else null. */
  readonly unknownReason: string | null;
  readonly conditions: readonly AutoscalerCondition[];
}

export interface DisruptionBudgetStatus {
  readonly name: string;
  readonly missing: boolean;
  readonly allowedDisruptions: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly expectedPods: number;
}

export interface ServicePort {
  readonly name: string | null;
  readonly protocol: string;
  readonly port: number;
  readonly nodePort: number | null;
}

/** `players`: the game Service players connect to; `players-udp`: its UDP node port Service. */
export type ServiceRole = 'players' | 'players-udp' | 'internal' | 'data';

export interface ServiceStatus {
  readonly name: string;
  readonly role: ServiceRole;
  readonly component: string;
  readonly type: string;
  readonly missing: boolean;
  readonly ports: readonly ServicePort[];
  /** LoadBalancer ingress addresses (IP or hostname). */
  readonly externalAddresses: readonly string[];
  /** Ready and not-ready endpoints from its EndpointSlices; null when they could not be read. */
  readonly endpoints: { readonly ready: number; readonly notReady: number } | null;
}

export interface VolumeStatus {
  readonly name: string;
  readonly component: string;
  /** `Bound`, `Pending`, `Lost` */
  readonly phase: string;
  readonly requested: string | null;
  /** Provisioned size, once bound. */
  readonly capacity: string | null;
  readonly storageClass: string | null;
}

export interface DataServiceStatus {
  readonly name: DataServiceId;
  /** `bundled`: a StatefulSet of the release; `external`: a managed service the release points at. */
  readonly mode: 'bundled' | 'external' | 'unknown';
  readonly workload: string | null;
  readonly desired: number;
  readonly ready: number;
  /** The external host, when the values name one. */
  readonly host: string | null;
}

export interface CanaryStatus {
  readonly present: boolean;
  readonly deployment: string | null;
  readonly image: string | null;
  readonly version: string | null;
  readonly desired: number;
  readonly ready: number;
}

export interface EventSummary {
  readonly type: string;
  readonly reason: string;
  /** `Pod/game-mmo-server-…` */
  readonly object: string;
  readonly message: string;
  readonly count: number;
  readonly lastSeen: string | null;
}

/** A read that failed; a 403 is `forbidden`. */
export interface ReadIssue {
  readonly component: ComponentId;
  /** What was read: a kind (`Pod`), `Node` or `helm status`. */
  readonly read: string;
  readonly message: string;
  readonly forbidden: boolean;
}

/** Everything status read, before judging it. */
export interface StatusData {
  /** The release asked about. */
  readonly name: string;
  readonly namespace: string;
  /** When the reads were made (ISO); ages and the event window count from here. */
  readonly observedAt: string;
  /** null when helm's record could not be read (see `issues`). */
  readonly release: ReleaseSummary | null;
  readonly workloads: readonly WorkloadStatus[];
  /** Pods of the data services (game server pods are in `gameServers`). */
  readonly pods: readonly PodStatus[];
  readonly gameServers: GameServers;
  readonly autoscaler: AutoscalerStatus | null;
  readonly disruptionBudget: DisruptionBudgetStatus | null;
  readonly services: readonly ServiceStatus[];
  readonly volumes: readonly VolumeStatus[];
  readonly dataServices: readonly DataServiceStatus[];
  readonly canary: CanaryStatus;
  /** Warning events of the release's objects in the last 15 minutes, newest first. */
  readonly events: readonly EventSummary[];
  readonly issues: readonly ReadIssue[];
  readonly durationMs: number;
  /** The players' path joined by two bots (--probe-players), or why it was not tried. */
  readonly probe?: PlayersProbe | { readonly skipped: string };
}

export type Health = 'healthy' | 'degraded' | 'down';
export type Level = 'down' | 'degraded' | 'warning';

/** One thing status found, with what to do about it. */
export interface Finding {
  readonly component: ComponentId;
  /** `down`: players cannot play; `degraded`: they can, but something is wrong; `warning`: worth a look. */
  readonly level: Level;
  readonly message: string;
  readonly fix?: string;
}

export type ComponentState = 'ok' | 'warning' | 'degraded' | 'down' | 'unknown' | 'absent';

export interface ComponentHealth {
  readonly state: ComponentState;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

export interface Verdict {
  readonly verdict: Health;
  /** Findings that make it degraded or down, the worst first. */
  readonly reasons: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly components: Readonly<Record<ComponentId, ComponentHealth>>;
}

export type StatusReport = StatusData & Verdict;

/** The `StatusReport` document (`-o json|yaml`). */
export function statusDocument(r: StatusReport): Document {
  const { verdict, reasons, warnings, components, ...data } = r;
  return document('StatusReport', { verdict, reasons, warnings, ...data, components });
}
