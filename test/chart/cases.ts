/** The values cases every rendered-output test runs over: each preset, then a matrix of toggles. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { CHART_DIR, PRESETS, PRESETS_DIR, render, type RenderOptions } from '../support/chart.ts';
import type { Manifest } from '../support/k8s-strict.ts';

export interface ValuesCase extends RenderOptions {
  name: string;
}

const external = {
  postgres: { enabled: false, external: { host: 'db.example.com', existingSecret: 'mmo-db' } },
  redis: { enabled: false, external: { host: 'cache.example.com', existingSecret: 'mmo-redis' } },
  rabbitmq: { enabled: false, external: { host: 'mq.example.com', existingSecret: 'mmo-amqp', cidrs: ['10.0.0.0/8'] } },
};

/** The PriorityClass the placement case names; the rig's admission test creates it. */
export const TEST_PRIORITY_CLASS = 'mmo-test-priority';

const resources = { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } };

/** Where a workload's pods run, as a studio with dedicated node pools would write it. */
const placement = (pool: string) => ({
  podAnnotations: { 'example.com/owner': 'game-team' },
  podLabels: { team: 'game', 'example.com/cost-center': 'games' },
  nodeSelector: { 'example.com/pool': pool },
  tolerations: [{ key: 'example.com/dedicated', operator: 'Equal', value: pool, effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-a', 'zone-b'] }] } }] } },
  priorityClassName: TEST_PRIORITY_CLASS,
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' }],
});
const identity = { serviceAccount: { annotations: { 'iam.gke.io/gcp-service-account': 'game@example-project.iam.gserviceaccount.com' } } };

export const CASES: readonly ValuesCase[] = [
  { name: 'chart defaults' },
  { name: 'preset dev', presets: ['dev'] },
  { name: 'preset staging', presets: ['staging'] },
  { name: 'preset production', presets: ['production'] },
  { name: 'udp nodePort', values: [{ udp: { mode: 'nodePort' } }] },
  { name: 'udp hostPort', values: [{ udp: { mode: 'hostPort' } }] },
  { name: 'udp hostNetwork', values: [{ udp: { mode: 'hostNetwork' }, networkPolicy: { nodeCIDRs: ['10.0.0.0/16'] } }] },
  { name: 'udp relay', values: [{ udp: { mode: 'relay', iceServers: [{ urls: ['turn:turn.example.com:3478'], username: 'game' }] } }] },
  { name: 'udp relay with secret ICE servers', values: [{ udp: { mode: 'relay', iceServersSecret: { name: 'turn-credentials' } } }] },
  { name: 'udp disabled', values: [{ udp: { mode: 'disabled' } }] },
  { name: 'external services', values: [external] },
  { name: 'external services on production', presets: ['production'], values: [external] },
  { name: 'existing secrets', values: [{ gameServer: { auth: { existingSecret: 'mmo-auth' }, admin: { existingSecret: 'mmo-admin', existingSecretKey: 'token' } }, postgres: { auth: { existingSecret: 'pg' } }, redis: { auth: { existingSecret: 'rd' } }, rabbitmq: { auth: { existingSecret: 'mq' } } }] },
  { name: 'monitoring on', values: [{ monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, dashboard: { enabled: true } } }] },
  { name: 'monitoring off on production', presets: ['production'], values: [{ monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false }, dashboard: { enabled: false } } }] },
  { name: 'canary on', values: [{ canary: { enabled: true, replicas: 1, image: { tag: '0.2.0' } } }] },
  { name: 'canary on production', presets: ['production'], values: [{ canary: { enabled: true, image: { tag: '0.2.0' } } }] },
  { name: 'hpa on', values: [{ gameServer: { autoscaling: { enabled: true } } }] },
  { name: 'hpa on with players per pod', values: [{ gameServer: { autoscaling: { enabled: true, playersPerPod: { enabled: true } } } }] },
  { name: 'hpa off on production', presets: ['production'], values: [{ gameServer: { autoscaling: { enabled: false } } }] },
  {
    name: 'hpa on, replicas left to it, credentials from Secrets (GitOps)',
    presets: ['production'],
    values: [{ gameServer: { autoscaling: { setReplicas: false }, auth: { existingSecret: 'mmo-auth' }, admin: { existingSecret: 'mmo-admin' } }, postgres: { auth: { existingSecret: 'pg' } }, redis: { auth: { existingSecret: 'rd' } }, rabbitmq: { auth: { existingSecret: 'mq' } } }],
  },
  { name: 'pdb off', values: [{ gameServer: { pdb: { enabled: false } } }] },
  { name: 'pdb minAvailable', values: [{ gameServer: { replicas: 3, pdb: { minAvailable: 2 } } }] },
  { name: 'ingress and load balancer', values: [{ ingress: { enabled: true, className: 'nginx', hosts: ['game.example.com'], tls: [{ secretName: 'game-tls', hosts: ['game.example.com'] }] }, service: { type: 'LoadBalancer', loadBalancerSourceRanges: ['203.0.113.0/24'] } }] },
  { name: 'node port service', values: [{ service: { type: 'NodePort', nodePort: 30080 } }] },
  { name: 'partitioned zones with a public URL', values: [{ gameServer: { publicUrl: 'https://zones-a.game.example.com', config: { zones: '0-1' } } }] },
  { name: 'network policies off', values: [{ networkPolicy: { enabled: false } }] },
  { name: 'digest-pinned images', values: [{ image: { digest: `sha256:${'a'.repeat(64)}` }, postgres: { image: { digest: `sha256:${'b'.repeat(64)}` } } }] },
  {
    name: 'a registry mirror, pull secrets and platform-assigned ids (OpenShift)',
    values: [{ global: { imageRegistry: 'registry.example.com:5000/mirror', imagePullSecrets: ['mirror-pull', { name: 'studio-pull' }], compatibility: { openshift: { adaptSecurityContext: 'force' } } }, imagePullSecrets: [{ name: 'studio-pull' }], postgres: { metrics: { enabled: true } } }],
  },
  {
    name: 'placement, labels and workload identity on every workload',
    values: [
      {
        gameServer: { ...placement('game'), ...identity, affinity: { ...placement('game').affinity, podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'postgres' } } } }] } } },
        postgres: { ...placement('stateful'), ...identity },
        redis: { ...placement('stateful'), ...identity },
        rabbitmq: { ...placement('stateful'), ...identity },
        migrations: { ...placement('game'), ...identity },
        tests: placement('game'),
        backup: { pgDump: { enabled: true, ...placement('stateful'), ...identity } },
      },
    ],
  },
  {
    name: 'extra env, volumes, sidecars and init containers',
    values: [
      {
        gameServer: {
          extraEnv: [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability:4317' }, { name: 'NODE_OPTIONS', valueFrom: { configMapKeyRef: { name: 'game-node', key: 'options', optional: true } } }],
          extraEnvFrom: [{ configMapRef: { name: 'game-extra', optional: true } }],
          extraVolumes: [{ name: 'db-ca', secret: { secretName: 'db-ca' } }],
          extraVolumeMounts: [{ name: 'db-ca', mountPath: '/etc/db-ca', readOnly: true }],
          sidecars: [{ name: 'sql-proxy', image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0', args: ['--port=5433', 'project:region:db'], ports: [{ containerPort: 5433 }], resources }],
          initContainers: [{ name: 'warm-up', image: 'docker.io/library/busybox:1.37', command: ['true'], resources }],
        },
        postgres: {
          extraEnv: [{ name: 'POSTGRES_INITDB_ARGS', value: '--data-checksums' }],
          extraVolumes: [{ name: 'initdb', configMap: { name: 'pg-initdb' } }],
          extraVolumeMounts: [{ name: 'initdb', mountPath: '/docker-entrypoint-initdb.d', readOnly: true }],
          sidecars: [{ name: 'backup', image: 'docker.io/library/alpine:3.21', command: ['sleep', 'infinity'], resources }],
        },
        redis: { extraEnvFrom: [{ secretRef: { name: 'redis-extra', optional: true } }], initContainers: [{ name: 'sysctl-check', image: 'docker.io/library/busybox:1.37', command: ['true'], resources }] },
        rabbitmq: { extraEnv: [{ name: 'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS', value: '-rabbit log [{console,[{level,warning}]}]' }] },
      },
    ],
  },
  {
    name: 'data stores on existing claims, with retention, PDBs and a memory /dev/shm',
    values: [
      {
        postgres: { persistence: { existingClaim: 'pg-data' }, pdb: { enabled: true }, shm: { enabled: true, sizeLimit: '512Mi' } },
        redis: { persistence: { retentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }, pdb: { enabled: true } },
        rabbitmq: { persistence: { retentionPolicy: { whenDeleted: 'Retain' } }, pdb: { enabled: true } },
      },
    ],
  },
  {
    name: 'data-store exporters and their ServiceMonitors',
    values: [{ postgres: { metrics: { enabled: true, serviceMonitor: { enabled: true } } }, redis: { metrics: { enabled: true, serviceMonitor: { enabled: true } } }, rabbitmq: { metrics: { enabled: true, serviceMonitor: { enabled: true } } } }],
  },
  {
    name: 'backups: pg_dump to a volume and a Velero Schedule',
    values: [
      {
        backup: {
          pgDump: { enabled: true, schedule: '30 3 * * *', timeZone: 'Europe/Berlin', retention: 14, persistence: { size: '5Gi', storageClass: 'standard' }, podLabels: { team: 'game' }, podAnnotations: { 'example.com/owner': 'game-team' } },
          velero: { enabled: true, storageLocation: 'offsite', defaultVolumesToFsBackup: true, snapshotVolumes: false },
        },
      },
    ],
  },
  {
    name: 'KEDA with the evening peak, players per pod and a queue',
    values: [
      {
        gameServer: {
          autoscaling: {
            keda: {
              enabled: true,
              cron: [{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 10 }],
              prometheus: { enabled: true, serverAddress: 'http://prometheus-operated.monitoring.svc:9090' },
              rabbitmq: { enabled: true, queueName: 'matchmaking' },
            },
          },
        },
      },
    ],
  },
  { name: 'backups of an external PostgreSQL to an existing claim', presets: ['production'], values: [external, { backup: { pgDump: { enabled: true, target: 'external', persistence: { existingClaim: 'pg-dumps' } } } }] },
  {
    name: 'KEDA on production, queue on an external RabbitMQ',
    presets: ['production'],
    values: [{ gameServer: { autoscaling: { enabled: false, keda: { enabled: true, cron: [{ timezone: 'America/New_York', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 9 }], rabbitmq: { enabled: true, queueName: 'login' } } } }, rabbitmq: external.rabbitmq }],
  },
  { name: 'VPA recommending for every workload', values: [{ vpa: { enabled: true } }] },
  {
    name: 'VPA applying to game servers scaled by KEDA, bounded',
    values: [{ vpa: { enabled: true, controlledValues: 'RequestsOnly', gameServer: { updateMode: 'Auto', minAllowed: { cpu: '250m', memory: '512Mi' }, maxAllowed: { cpu: '2', memory: '2Gi' } }, redis: { updateMode: 'Initial' } }, gameServer: { autoscaling: { keda: { enabled: true, cron: [{ timezone: 'UTC', start: '0 18 * * 5', end: '0 23 * * 0', desiredReplicas: 4 }] } } } }],
  },
  { name: 'VPA Auto with an HPA on players only', values: [{ vpa: { enabled: true, gameServer: { updateMode: 'Auto' } }, gameServer: { autoscaling: { enabled: true, targetCPUUtilizationPercentage: 0, targetMemoryUtilizationPercentage: 0, playersPerPod: { enabled: true } } } }] },
  { name: 'Istio mesh, backups included', values: [{ mesh: { istio: { enabled: true } }, backup: { pgDump: { enabled: true } } }] },
  {
    name: 'Istio mesh with a weighted canary, players through a gateway, exporters',
    values: [{ mesh: { istio: { enabled: true, playersThroughGateway: true, canaryWeight: 10 } }, canary: { enabled: true, image: { tag: '0.2.0' } }, postgres: { metrics: { enabled: true } }, monitoring: { serviceMonitor: { enabled: true } } }],
  },
  { name: 'Istio mesh, permissive, on production', presets: ['production'], values: [{ mesh: { istio: { enabled: true, mtlsMode: 'PERMISSIVE' } } }] },
  {
    name: 'one region of several, with its cost per player-hour',
    presets: ['production'],
    values: [{ region: { name: 'eu-west-1' }, cost: { enabled: true, cpuHourPrice: 0.0336, gibHourPrice: 0.0045, currency: 'EUR', budgetPerPlayerHour: 0.02, budgetFor: '15m' }, postgres: { metrics: { enabled: true, serviceMonitor: { enabled: true } } } }],
  },
  {
    name: 'extra NetworkPolicy rules and UDP Service annotations',
    values: [
      {
        udp: { serviceAnnotations: { 'example.com/firewall-rule': 'game-udp' } },
        networkPolicy: {
          extraIngress: { gameServer: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mesh' } } }], ports: [{ port: 15090, protocol: 'TCP' }] }], redis: [{ from: [{ podSelector: { matchLabels: { app: 'redis-backup' } } }], ports: [{ port: 6379 }] }] },
          extraEgress: { gameServer: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 443, protocol: 'TCP' }] }], postgres: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 443 }] }] },
        },
      },
    ],
  },
];

/**
 * Renders each case with each helm major up front (helm is the slow part), at most 4 at a time.
 * Keys are `${major}|${case name}`.
 */
export async function renderCases(
  helm: Record<HelmMajor, string>,
  majors: readonly HelmMajor[],
  cases: readonly ValuesCase[],
  extra: RenderOptions = {},
): Promise<Map<string, Manifest[]>> {
  const out = new Map<string, Manifest[]>();
  const jobs = majors.flatMap((major) => cases.map((c) => [major, c] as const));
  for (let i = 0; i < jobs.length; i += 4) {
    await Promise.all(jobs.slice(i, i + 4).map(async ([major, c]) => out.set(`${major}|${c.name}`, await render(helm[major], { ...c, ...extra }))));
  }
  return out;
}

/** The chart's values.yaml and every preset, parsed: the layers `mergedValues` merges. */
export async function valueFiles(): Promise<{ defaults: object; presets: Record<string, object> }> {
  const read = async (file: string): Promise<object> => parse(await readFile(file, 'utf8')) as object;
  const presets: Record<string, object> = {};
  for (const p of PRESETS) presets[p] = await read(join(PRESETS_DIR, `${p}.yaml`));
  return { defaults: await read(join(CHART_DIR, 'values.yaml')), presets };
}

/** Values as helm would merge them for one case, enough to answer "is X enabled" (deep merge). */
export function mergedValues(defaults: object, presets: Record<string, object>, c: ValuesCase): Record<string, any> {
  const layers = [defaults, ...(c.presets ?? []).map((p) => presets[p]!), ...(c.values ?? [])];
  return layers.reduce((acc: Record<string, any>, layer) => deepMerge(acc, layer as Record<string, any>), {});
}

function deepMerge(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' && !Array.isArray(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}
