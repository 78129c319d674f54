// A release of the mmo chart as the cluster and helm would hold it — release "game" in namespace
// "game", the production shape (two stable game servers, HPA, PDB, LoadBalancer, UDP node port,
// bundled PostgreSQL, Redis and RabbitMQ on bound volumes) — all ready at NOW. Tests break one thing
// at a time and hand the result to the fakes.
import type {
  CoreV1Event,
  KubernetesObject,
  V1Deployment,
  V1EndpointSlice,
  V1Node,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Secret,
  V1Service,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { HelmRelease, HelmRevision } from '../../../cli/helm/helm.ts';
import type { Kind } from '../../../cli/kube/kube.ts';
import { collectStatus } from '../../../cli/status/collect.ts';
import type { StatusReport } from '../../../cli/status/model.ts';
import { statusReport } from '../../../cli/status/verdict.ts';
import { FakeHelm, FakeKube } from './fakes.ts';

export const NOW = new Date('2026-12-04T12:00:00Z');
export const NS = 'game';
export const RELEASE = 'game';
export const REF = { release: RELEASE, namespace: NS } as const;
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

const labels = (component: string, extra: Record<string, string> = {}) => ({
  'app.kubernetes.io/name': 'mmo',
  'app.kubernetes.io/instance': RELEASE,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/managed-by': 'Helm',
  ...extra,
});

export const SECRET_VALUES = {
  postgres: 'pg-Secret-9f2KqLw7ZrT1xV4bN8mC3dH6',
  redis: 'redis-Secret-Qw3Er5Ty7Ui9Op1As2Df',
  rabbitmq: 'amqp-Secret-Zx8Cv6Bn4Mq2Wl0Pk9Jh',
  auth: 'auth-Secret-aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF3hJ5',
  admin: 'admin-Token-Lk8Jh6Gf4Ds2Aq0Wp9Oi7Uy5Tr3Ew1Qz',
};

export class ReleaseWorld {
  deployments: V1Deployment[] = [];
  statefulSets: V1StatefulSet[] = [];
  pods: V1Pod[] = [];
  services: V1Service[] = [];
  slices: V1EndpointSlice[] = [];
  hpas: V2HorizontalPodAutoscaler[] = [];
  pdbs: V1PodDisruptionBudget[] = [];
  pvcs: V1PersistentVolumeClaim[] = [];
  events: CoreV1Event[] = [];
  nodes: V1Node[] = [];
  secrets: V1Secret[] = [];
  release: HelmRelease | undefined;
  history: HelmRevision[] = [];
  values: Record<string, unknown> = {};

  constructor() {
    for (const [i, zone] of ['a', 'b', 'c'].entries()) {
      this.nodes.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: `node-${zone}`, labels: { 'topology.kubernetes.io/zone': `zone-${zone}` } },
        status: { addresses: [{ type: 'ExternalIP', address: `203.0.113.${11 + i}` }] },
      });
    }
    this.addGameServers('stable', 'game-mmo-server', 2, '0.2.0', '5d8f9c7b6');
    for (const [svc, version, size] of [['postgres', '17.5-bookworm', '50Gi'], ['redis', '7.4.2-bookworm', '5Gi'], ['rabbitmq', '4.1.0', '10Gi']] as const) {
      this.addDataService(svc, version, size);
    }
    this.services.push(
      this.service('game-mmo-server', 'game-server', 'LoadBalancer', [{ name: 'game', port: 8080, protocol: 'TCP', nodePort: 31080 }], ['198.51.100.7']),
      this.service('game-mmo-server-internal', 'game-server', 'ClusterIP', [{ name: 'health', port: 8081, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }]),
      this.service('game-mmo-server-udp', 'game-server', 'NodePort', [{ name: 'game-udp', port: 30555, protocol: 'UDP', nodePort: 30555 }]),
    );
    this.hpas.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'game-mmo-server', namespace: NS, labels: labels('game-server') },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'game-mmo-server' },
        minReplicas: 2,
        maxReplicas: 11,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          { type: 'Pods', pods: { metric: { name: 'game_server_active_players' }, target: { type: 'AverageValue', averageValue: '800' } } },
        ],
      },
      status: {
        currentReplicas: 2,
        desiredReplicas: 2,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 35, averageValue: '350m' } } },
          { type: 'Pods', pods: { metric: { name: 'game_server_active_players' }, current: { averageValue: '412' } } },
        ],
        conditions: [
          { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
          { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization' },
          { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' },
        ],
      },
    });
    this.pdbs.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'game-mmo-server', namespace: NS, labels: labels('game-server') },
      spec: { maxUnavailable: 1 },
      status: { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1, expectedPods: 2 },
    });
    // Old news: outside the 15-minute window, never shown.
    this.event('Pod', 'game-mmo-postgres-0', 'FailedScheduling', '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.', 130);
    // Another app in the namespace: never shown.
    this.event('Pod', 'billing-7d9f-x2x4z', 'BackOff', 'Back-off restarting failed container', 1);
    const url = (scheme: string, user: string, pw: string, host: string) => `${scheme}://${user}:${pw}@${host}`;
    this.secrets.push(
      this.secret('game-mmo-postgres', 'postgres', { password: SECRET_VALUES.postgres }),
      this.secret('game-mmo-redis', 'redis', { password: SECRET_VALUES.redis }),
      this.secret('game-mmo-rabbitmq', 'rabbitmq', { password: SECRET_VALUES.rabbitmq }),
      this.secret('game-mmo-server', 'game-server', {
        DATABASE_URL: url('postgres', 'mmo', SECRET_VALUES.postgres, `game-mmo-postgres.${NS}.svc:5432/mmo`),
        REDIS_URL: url('redis', '', SECRET_VALUES.redis, `game-mmo-redis.${NS}.svc:6379/0`),
        AMQP_URL: url('amqp', 'mmo', SECRET_VALUES.rabbitmq, `game-mmo-rabbitmq.${NS}.svc:5672`),
        MMO_AUTH_SECRET: SECRET_VALUES.auth,
        MMO_ADMIN_TOKEN: SECRET_VALUES.admin,
      }),
    );
    this.syncSlices();
    this.values = { image: { tag: '0.2.0' }, gameServer: { autoscaling: { minReplicas: 2 } }, udp: { nodePort: 30555 } };
    this.history = [
      { revision: 1, updated: ago(60 * 24), status: 'superseded', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: 'Install complete' },
      { revision: 2, updated: ago(60 * 5), status: 'superseded', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: 'Upgrade complete' },
      { revision: 3, updated: ago(120), status: 'deployed', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: 'Upgrade complete' },
    ];
    this.release = {
      name: RELEASE,
      namespace: NS,
      revision: 3,
      status: 'deployed',
      chart: 'mmo-0.2.0',
      chartVersion: '0.2.0',
      appVersion: '0.2.0',
      updated: ago(120),
      description: 'Upgrade complete',
      config: this.values,
    };
  }

  /** The Deployment of a game server track and its ready pods. */
  addGameServers(track: 'stable' | 'canary', name: string, replicas: number, version: string, hash: string): void {
    const l = labels('game-server', { 'mmo.dev/track': track, 'app.kubernetes.io/version': version });
    this.deployments.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: NS, labels: l, generation: 3 },
      spec: {
        replicas,
        selector: { matchLabels: labels('game-server', { 'mmo.dev/track': track }) },
        template: { metadata: { labels: l }, spec: { containers: [{ name: 'server', image: `ghcr.io/mmoctl/mmo-server:${version}` }] } },
      },
      status: { observedGeneration: 3, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
    });
    const zones = ['a', 'b', 'c'];
    for (let i = 0; i < replicas; i++) {
      const pod = this.pod(`${name}-${hash}-${'qwxyz'[i]}${'abcde'[i]}k${i}`, l, `node-${zones[(i + (track === 'canary' ? 2 : 0)) % 3]}`, { kind: 'ReplicaSet', name: `${name}-${hash}` }, `ghcr.io/mmoctl/mmo-server:${version}`);
      pod.metadata!.labels = { ...l, 'pod-template-hash': hash };
      this.pods.push(pod);
    }
  }

  private addDataService(svc: string, version: string, size: string): void {
    const name = `game-mmo-${svc}`;
    const l = labels(svc, { 'app.kubernetes.io/version': version });
    this.statefulSets.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: NS, labels: l, generation: 1 },
      spec: { replicas: 1, serviceName: `${name}-headless`, selector: { matchLabels: labels(svc) }, template: { metadata: { labels: l }, spec: { containers: [{ name: svc, image: `docker.io/library/${svc}:${version}` }] } } },
      status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1, currentRevision: `${name}-6c8d`, updateRevision: `${name}-6c8d` },
    });
    this.pods.push(this.pod(`${name}-0`, l, svc === 'postgres' ? 'node-c' : svc === 'redis' ? 'node-a' : 'node-b', { kind: 'StatefulSet', name }, `docker.io/library/${svc}:${version}`));
    this.pvcs.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `data-${name}-0`, namespace: NS, labels: labels(svc) },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'standard', resources: { requests: { storage: size } } },
      status: { phase: 'Bound', capacity: { storage: size } },
    });
    const port = { postgres: 5432, redis: 6379, rabbitmq: 5672 }[svc]!;
    this.services.push(this.service(name, svc, 'ClusterIP', [{ name: svc, port, protocol: 'TCP' }]));
  }

  pod(name: string, l: Record<string, string>, node: string, owner: { kind: string; name: string }, image: string): V1Pod {
    const container = image.includes('mmo-server') ? 'server' : (l['app.kubernetes.io/component'] ?? 'main');
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: { ...l }, creationTimestamp: new Date(ago(120)), ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `uid-${owner.name}`, controller: true }] },
      spec: { nodeName: node, containers: [{ name: container, image }] },
      status: {
        phase: 'Running',
        podIP: `10.244.0.${this.pods.length + 10}`,
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
        containerStatuses: [{ name: container, image, imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: new Date(ago(119)) } } }],
      },
    };
  }

  service(name: string, component: string, type: string, ports: { name: string; port: number; protocol: string; nodePort?: number }[], lb: string[] = []): V1Service {
    const game = component === 'game-server';
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NS, labels: labels(component) },
      spec: { type, selector: game ? labels('game-server') : labels(component), ports },
      status: { loadBalancer: { ingress: lb.map((ip) => ({ ip })) } },
    };
  }

  private slice(service: string, endpoints: V1EndpointSlice['endpoints']): V1EndpointSlice {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      addressType: 'IPv4',
      metadata: { name: `${service}-x7k2p`, namespace: NS, labels: { ...this.services.find((s) => s.metadata?.name === service)?.metadata?.labels, 'kubernetes.io/service-name': service } },
      endpoints,
    };
  }

  /** EndpointSlices as the controller would write them now: every pod a Service selects, ready as it is. */
  syncSlices(): void {
    this.slices = this.services.map((s) => {
      const selected = this.pods.filter((p) => Object.entries(s.spec?.selector ?? {}).every(([k, v]) => p.metadata?.labels?.[k] === v));
      return this.slice(s.metadata!.name!, selected.map((p) => ({
        addresses: [p.status?.podIP ?? '10.244.9.9'],
        conditions: { ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false },
        targetRef: { kind: 'Pod', name: p.metadata?.name, namespace: NS },
      })));
    });
  }

  secret(name: string, component: string, data: Record<string, string>): V1Secret {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, namespace: NS, labels: labels(component) },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    };
  }

  event(kind: string, name: string, reason: string, message: string, minutesAgo: number, count = 1): void {
    this.events.push({
      apiVersion: 'v1',
      kind: 'Event',
      type: 'Warning',
      metadata: { name: `${name}.${reason}.${this.events.length}`, namespace: NS },
      involvedObject: { kind, name, namespace: NS },
      reason,
      message,
      count,
      lastTimestamp: new Date(ago(minutesAgo)),
    });
  }

  find<T extends { metadata?: { name?: string } }>(list: T[], name: string): T {
    const o = list.find((x) => x.metadata?.name === name);
    if (!o) throw new Error(`the world has no ${name}`);
    return o;
  }

  /** Makes a pod crash-loop: not ready, waiting in CrashLoopBackOff, restarts counted, the last exit recorded. */
  crashLoop(pod: V1Pod, restarts: number): void {
    const c = pod.status!.containerStatuses![0]!;
    c.ready = false;
    c.started = false;
    c.restartCount = restarts;
    c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=${c.name} pod=${pod.metadata!.name}` } };
    c.lastState = { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date(ago(1)), startedAt: new Date(ago(1)) } };
    pod.status!.conditions = [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${c.name}]` }];
  }

  /** Deletes an object from the cluster only: helm's manifest still holds it. */
  removeFromCluster<T extends { metadata?: { name?: string } }>(list: T[], name: string): void {
    if (this.release && !this.release.manifest) this.release = { ...this.release, manifest: this.manifest() };
    list.splice(list.indexOf(this.find(list, name)), 1);
  }

  /** The manifest helm recorded for the current revision: every object of the release (not pods, slices, PVCs). */
  manifest(): string {
    const strip = (o: KubernetesObject) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name, namespace: NS, labels: o.metadata?.labels }, spec: (o as { spec?: unknown }).spec, data: (o as { data?: unknown }).data });
    return [...this.secrets, ...this.services, ...this.deployments, ...this.statefulSets, ...this.hpas, ...this.pdbs].map((o) => stringify(strip(o))).join('---\n');
  }

  objects(): KubernetesObject[] {
    return [
      ...this.deployments, ...this.statefulSets, ...this.pods, ...this.services, ...this.slices, ...this.hpas,
      ...this.pdbs, ...this.pvcs, ...this.events, ...this.nodes, ...this.secrets,
    ];
  }

  kube(): FakeKube {
    const byKind: Partial<Record<Kind, KubernetesObject[]>> = {};
    for (const o of this.objects()) (byKind[o.kind as Kind] ??= []).push(structuredClone(o));
    return new FakeKube(byKind);
  }

  helm(): FakeHelm {
    const helm = new FakeHelm();
    if (!this.release) return helm;
    const key = `${NS}/${RELEASE}`;
    helm.releases.set(key, { ...this.release, manifest: this.release.manifest ?? this.manifest() });
    helm.histories.set(key, this.history);
    helm.valuesOf.set(key, { user: this.values, computed: { ...this.values, postgres: { enabled: true }, capacity: { playersPerPod: 1000 } } });
    return helm;
  }
}

/** The StatusReport of a world at NOW, with the fakes adjusted by `tweak` (refused reads, failing helm). */
export async function report(w: ReleaseWorld, tweak: (k: FakeKube, h: FakeHelm) => void = () => {}): Promise<StatusReport> {
  const kube = w.kube();
  const helm = w.helm();
  tweak(kube, helm);
  return statusReport(await collectStatus(REF, { kube: async () => kube, helm: async () => helm, now: () => NOW }));
}
