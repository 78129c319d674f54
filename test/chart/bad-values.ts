/**
 * The bad-values corpus: values a studio could write that the API server, prometheus-operator or the
 * game server itself would refuse, grown by class. The chart must refuse each one before anything
 * renders, name the key, and (for its own rules) suggest a fix that renders. bad-values.test.ts runs
 * it through `helm template`, lint.test.ts through `helm lint --strict`, both with helm 3 and 4.
 */
import type { Preset } from '../support/chart.ts';

export const CLASSES = ['types', 'ranges', 'formats', 'server-parsed', 'cross-field', 'nulls', 'labels and names', 'port collisions'] as const;
export type ValueClass = (typeof CLASSES)[number];

export interface BadCase {
  class: ValueClass;
  /** What a user would notice, as the test's name. */
  name: string;
  values: object;
  presets?: Preset[];
  /** Kinds the cluster serves (default: with prometheus-operator's, as every offline render here). */
  apiVersions?: string[];
  release?: string;
  /** The key the refusal must name, as written after --set. */
  key: string;
  /** More text the refusal must hold. */
  mentions?: string[];
  /**
   * For a refusal by values.schema.json (helm's own message, which suggests nothing): the values the
   * user meant, which must render — proof that the named key was the only thing wrong.
   */
  fixed?: object;
  /** Why `helm lint` cannot see this case (it renders under a fixed release name, without a cluster). */
  notUnderLint?: string;
}

const resources = { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } };
const sidecar = (name: string, extra: object = {}) => ({ name, image: 'docker.io/library/busybox:1.37', resources, ...extra });

const cidrCase = (name: string, cidr: string): BadCase => ({ class: 'formats', name, values: { udp: { allowedCIDRs: [cidr] } }, key: 'udp.allowedCIDRs[0]', fixed: { udp: { allowedCIDRs: ['203.0.113.0/24'] } } });

export const CORPUS: BadCase[] = [
  // ---- types: what values.schema.json catches by shape ----
  { class: 'types', name: 'an unknown top-level key', values: { replicas: 3 }, key: 'replicas', fixed: { gameServer: { replicas: 3 } } },
  { class: 'types', name: 'an unknown nested key (typo)', values: { gameServer: { autoscalling: { enabled: true } } }, key: 'autoscalling', fixed: { gameServer: { autoscaling: { enabled: true } } } },
  { class: 'types', name: 'a word for a number', values: { gameServer: { replicas: 'three' } }, key: 'gameServer.replicas', fixed: { gameServer: { replicas: 3 } } },
  { class: 'types', name: 'a string for a boolean', values: { postgres: { enabled: 'false' } }, key: 'postgres.enabled', fixed: { postgres: { enabled: false, external: { host: 'db.example.com', existingSecret: 'db' } } } },
  { class: 'types', name: 'a number for an image tag', values: { image: { tag: 1.5 } }, key: 'image.tag', fixed: { image: { tag: '1.5' } } },
  { class: 'types', name: 'a list for a map of labels', values: { commonLabels: ['team=game'] }, key: 'commonLabels', fixed: { commonLabels: { team: 'game' } } },
  { class: 'types', name: 'one CIDR where a list is expected', values: { udp: { allowedCIDRs: '0.0.0.0/0' } }, key: 'udp.allowedCIDRs', fixed: { udp: { allowedCIDRs: ['0.0.0.0/0'] } } },
  { class: 'types', name: 'a bare quantity where resources are expected', values: { gameServer: { resources: '1Gi' } }, key: 'gameServer.resources', fixed: { gameServer: { resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } } } },
  { class: 'types', name: 'an unknown UDP mode', values: { udp: { mode: 'satellite' } }, key: 'udp.mode', mentions: ['nodePort'], fixed: { udp: { mode: 'nodePort' } } },
  { class: 'types', name: 'an unknown Service type', values: { service: { type: 'ExternalName' } }, key: 'service.type', fixed: { service: { type: 'LoadBalancer' } } },
  { class: 'types', name: 'an unknown pull policy', values: { postgres: { image: { pullPolicy: 'Sometimes' } } }, key: 'postgres.image.pullPolicy', fixed: { postgres: { image: { pullPolicy: 'Always' } } } },
  { class: 'types', name: 'an unknown address type to announce', values: { udp: { announce: { addressTypes: ['PublicIP'] } } }, key: 'udp.announce.addressTypes[0]', fixed: { udp: { announce: { addressTypes: ['ExternalIP'] } } } },
  { class: 'types', name: 'a credential written into the ICE servers', values: { udp: { iceServers: [{ urls: ['turn:t.example.com'], credential: 'hunter2' }] } }, key: 'udp.iceServers[0]', mentions: ['credential'], fixed: { udp: { iceServers: [{ urls: ['turn:t.example.com'] }] } } },
  { class: 'types', name: 'a toleration operator Kubernetes does not know', values: { gameServer: { tolerations: [{ key: 'game', operator: 'In', value: 'yes' }] } }, key: 'gameServer.tolerations[0]', fixed: { gameServer: { tolerations: [{ key: 'game', operator: 'Equal', value: 'yes' }] } } },

  { class: 'types', name: 'an OpenShift switch that is neither auto, force nor disabled', values: { global: { compatibility: { openshift: { adaptSecurityContext: 'yes' } } } }, key: 'global.compatibility.openshift.adaptSecurityContext', fixed: { global: { compatibility: { openshift: { adaptSecurityContext: 'force' } } } } },
  { class: 'types', name: 'a claim retention Kubernetes does not know', values: { redis: { persistence: { retentionPolicy: { whenDeleted: 'Keep' } } } }, key: 'redis.persistence.retentionPolicy.whenDeleted', fixed: { redis: { persistence: { retentionPolicy: { whenDeleted: 'Retain' } } } } },
  { class: 'types', name: 'a sidecar without resources', values: { gameServer: { sidecars: [{ name: 'proxy', image: 'docker.io/library/busybox:1.37' }] } }, key: 'gameServer.sidecars[0]', fixed: { gameServer: { sidecars: [sidecar('proxy')] } } },
  { class: 'types', name: 'an environment variable with both a value and a source', values: { gameServer: { extraEnv: [{ name: 'REGION', value: 'eu', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }] } }, key: 'gameServer.extraEnv[0]', fixed: { gameServer: { extraEnv: [{ name: 'REGION', value: 'eu' }] } } },
  { class: 'types', name: 'an envFrom naming both a ConfigMap and a Secret', values: { redis: { extraEnvFrom: [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }] } }, key: 'redis.extraEnvFrom[0]', fixed: { redis: { extraEnvFrom: [{ configMapRef: { name: 'a' } }] } } },
  { class: 'types', name: 'a volume with two sources', values: { postgres: { extraVolumes: [{ name: 'conf', configMap: { name: 'a' }, emptyDir: {} }] } }, key: 'postgres.extraVolumes[0]', fixed: { postgres: { extraVolumes: [{ name: 'conf', configMap: { name: 'a' } }] } } },
  { class: 'types', name: 'a NetworkPolicy peer mixing an ipBlock and a selector', values: { networkPolicy: { extraEgress: { gameServer: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] } } }, key: 'networkPolicy.extraEgress.gameServer[0].to[0]', fixed: { networkPolicy: { extraEgress: { gameServer: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] } } } },
  { class: 'types', name: 'a topology spread that is unsatisfiable in an unknown way', values: { redis: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'Ignore' }] } }, key: 'redis.topologySpreadConstraints[0].whenUnsatisfiable', fixed: { redis: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' }] } } },

  { class: 'types', name: 'a VPA update mode VPA does not know', values: { vpa: { enabled: true, gameServer: { updateMode: 'Always' } } }, key: 'vpa.gameServer.updateMode', fixed: { vpa: { enabled: true, gameServer: { updateMode: 'Off' } } } },
  { class: 'types', name: 'an mTLS mode Istio does not know', values: { mesh: { istio: { enabled: true, mtlsMode: 'MUTUAL' } } }, key: 'mesh.istio.mtlsMode', fixed: { mesh: { istio: { enabled: true, mtlsMode: 'STRICT' } } } },
  // ---- ranges ----
  { class: 'ranges', name: 'a canary share above 100 percent', values: { mesh: { istio: { enabled: true, canaryWeight: 150 } } }, key: 'mesh.istio.canaryWeight', fixed: { mesh: { istio: { enabled: true, canaryWeight: 100 } } } },
  { class: 'ranges', name: 'a negative price of a CPU-hour', values: { cost: { cpuHourPrice: -0.04 } }, key: 'cost.cpuHourPrice', fixed: { cost: { cpuHourPrice: 0.04 } } },
  { class: 'ranges', name: 'a port above 65535', values: { service: { port: 70000 } }, key: 'service.port', fixed: { service: { port: 8080 } } },
  { class: 'ranges', name: 'a tick rate of 0 (the server takes 1-120)', values: { gameServer: { config: { tickRate: 0 } } }, key: 'gameServer.config.tickRate', fixed: { gameServer: { config: { tickRate: 1, patchRate: 1 } } } },
  { class: 'ranges', name: 'a tick rate above what the server takes', values: { gameServer: { config: { tickRate: 121 } } }, key: 'gameServer.config.tickRate', fixed: { gameServer: { config: { tickRate: 120 } } } },
  { class: 'ranges', name: 'no players per pod', values: { capacity: { playersPerPod: 0 } }, key: 'capacity.playersPerPod', fixed: { capacity: { playersPerPod: 1 } } },
  { class: 'ranges', name: 'a drain longer than the server allows', values: { gameServer: { config: { drainSeconds: 3601 }, terminationGracePeriodSeconds: 4000 } }, key: 'gameServer.config.drainSeconds', fixed: { gameServer: { config: { drainSeconds: 3600 }, terminationGracePeriodSeconds: 4000 } } },
  { class: 'ranges', name: 'more game server pods than the chart allows', values: { gameServer: { replicas: 1001 } }, key: 'gameServer.replicas', fixed: { gameServer: { replicas: 1000 } } },
  { class: 'ranges', name: 'a negative CPU request', values: { gameServer: { resources: { requests: { cpu: -1 } } } }, key: 'gameServer.resources.requests.cpu', fixed: { gameServer: { resources: { requests: { cpu: 1 } } } } },
  { class: 'ranges', name: 'a negative memory limit', values: { redis: { resources: { limits: { memory: -512 } } } }, key: 'redis.resources.limits.memory', fixed: { redis: { resources: { limits: { memory: '512Mi' } } } } },
  { class: 'ranges', name: 'a negative memory limit written as text', values: { redis: { resources: { limits: { memory: '-512Mi' } } } }, key: 'redis.resources.limits.memory', fixed: { redis: { resources: { limits: { memory: '512Mi' } } } } },
  { class: 'ranges', name: 'a data volume of zero bytes', values: { postgres: { persistence: { size: '0Gi' } } }, key: 'postgres.persistence.size', fixed: { postgres: { persistence: { size: '1Gi' } } } },
  { class: 'ranges', name: 'a UDP port below 1024, which the non-root server cannot bind', values: { udp: { mode: 'hostPort', port: 443 } }, key: 'udp.port', fixed: { udp: { mode: 'hostPort', port: 20443 } } },
  { class: 'ranges', name: 'a rollout that may add no pod', values: { gameServer: { rollingUpdate: { maxSurge: 0 } } }, key: 'gameServer.rollingUpdate.maxSurge', fixed: { gameServer: { rollingUpdate: { maxSurge: 1 } } } },
  { class: 'ranges', name: 'a CPU limit of 0 under a request (0 is no "unlimited")', values: { gameServer: { resources: { limits: { cpu: 0 } } } }, key: 'gameServer.resources.limits.cpu', mentions: ['--set gameServer.resources.limits.cpu=250m'] },
  { class: 'ranges', name: 'a memory limit of 0 with no request', values: { migrations: { resources: { requests: { memory: 0 }, limits: { memory: '0' } } } }, key: 'migrations.resources.limits.memory', mentions: ['--set migrations.resources.limits.memory=512Mi'] },
  { class: 'ranges', name: 'a CPU request above its limit', values: { gameServer: { resources: { requests: { cpu: '1500m' }, limits: { cpu: '1' } } } }, key: 'gameServer.resources.limits.cpu', mentions: ['(1) is below gameServer.resources.requests.cpu (1500m)', '--set gameServer.resources.limits.cpu=1500m'] },
  { class: 'ranges', name: 'a memory request above its limit, in other units', values: { postgres: { resources: { requests: { memory: '2Gi' }, limits: { memory: '1500Mi' } } } }, key: 'postgres.resources.limits.memory', mentions: ['--set postgres.resources.limits.memory=2Gi'] },
  { class: 'ranges', name: 'a canary whose own resources request more than they allow', values: { canary: { enabled: true, image: { tag: '0.3.0' }, resources: { requests: { cpu: 2, memory: '1Gi' }, limits: { cpu: 1, memory: '1Gi' } } } }, key: 'canary.resources.limits.cpu' },
  { class: 'ranges', name: 'a computed replica count far beyond the cap an explicit count gets', values: { capacity: { targetPlayers: 2_000_000 } }, key: 'capacity.playersPerPod', mentions: ['gameServer.replicas 2001', '--set capacity.playersPerPod=2003'] },
  { class: 'ranges', name: 'a computed autoscaling maximum beyond the cap', presets: ['production'], values: { capacity: { targetPlayers: 1_000_000 } }, key: 'capacity.playersPerPod', mentions: ['gameServer.autoscaling.maxReplicas 1601'] },
  { class: 'ranges', name: 'a players-per-pod autoscaling target of zero players', values: { capacity: { playersPerPod: 50, scaleAtPercent: 1 }, gameServer: { autoscaling: { enabled: true, playersPerPod: { enabled: true } } } }, key: 'capacity.scaleAtPercent', mentions: ['--set capacity.scaleAtPercent=2'] },
  { class: 'ranges', name: 'a node port outside the cluster range', values: { service: { type: 'NodePort', nodePort: 29999 } }, key: 'service.nodePort', mentions: ['30000-32767'] },
  { class: 'ranges', name: 'a UDP node port outside the cluster range', values: { udp: { nodePort: 20000 } }, key: 'udp.nodePort', mentions: ['--set udp.nodePort=30000'] },
  { class: 'ranges', name: 'a node port range that runs backwards', values: { nodePortRange: '32767-30000' }, key: 'nodePortRange' },
  { class: 'ranges', name: 'a scrape interval of zero', values: { monitoring: { serviceMonitor: { interval: '0s' } } }, key: 'monitoring.serviceMonitor.interval' },

  { class: 'ranges', name: 'a sidecar that requests more memory than it may use', values: { postgres: { sidecars: [sidecar('backup', { resources: { requests: { cpu: '10m', memory: '1Gi' }, limits: { cpu: '100m', memory: '64Mi' } } })] } }, key: 'postgres.sidecars[0].resources.limits.memory', mentions: ['--set postgres.sidecars[0].resources.limits.memory=1Gi'] },
  { class: 'ranges', name: 'a helm test latency limit below 0', values: { tests: { check: { rttP95Ms: -1 } } }, key: 'tests.check.rttP95Ms', fixed: { tests: { check: { rttP95Ms: 0 } } } },
  { class: 'ranges', name: 'an exporter with a CPU limit of 0', values: { redis: { metrics: { enabled: true, resources: { limits: { cpu: 0 } } } } }, key: 'redis.metrics.resources.limits.cpu' },
  { class: 'ranges', name: 'a memory-backed /dev/shm as large as PostgreSQL may use', values: { postgres: { shm: { enabled: true, sizeLimit: '1Gi' } } }, key: 'postgres.shm.sizeLimit', mentions: ['--set postgres.shm.sizeLimit=512Mi'] },

  // ---- formats: text the API server or prometheus-operator would refuse ----
  { class: 'formats', name: 'a memory size in words', values: { gameServer: { resources: { limits: { memory: 'lots' } } } }, key: 'gameServer.resources.limits.memory', fixed: { gameServer: { resources: { limits: { memory: '1Gi' } } } } },
  cidrCase('an IPv4 CIDR with an octet above 255', '999.0.0.0/8'),
  cidrCase('an IPv4 CIDR with a prefix above 32', '10.0.0.0/33'),
  cidrCase('an address without a prefix length', '10.0.0.1'),
  cidrCase('an IPv4 octet with a leading zero', '010.0.0.0/8'),
  cidrCase('an IPv6 CIDR with a prefix above 128', '2001:db8::/129'),
  cidrCase('an IPv6 address with two "::"', '2001::db8::/32'),
  { class: 'formats', name: 'a load balancer source range with host bits set', values: { service: { type: 'LoadBalancer', loadBalancerSourceRanges: ['203.0.113.7/24'] } }, key: 'service.loadBalancerSourceRanges[0]', mentions: ['--set service.loadBalancerSourceRanges[0]=203.0.113.0/24'] },
  { class: 'formats', name: 'an IPv6 load balancer source range with host bits set', values: { service: { type: 'LoadBalancer', loadBalancerSourceRanges: ['2001:db8::1/64'] } }, key: 'service.loadBalancerSourceRanges[0]', mentions: ['2001:db8:0:0:0:0:0:0/64'] },
  { class: 'formats', name: 'an external database CIDR that is no CIDR', values: { postgres: { enabled: false, external: { host: 'db.example.com', existingSecret: 'db', cidrs: ['10.0.0.0/8', 'db.example.com'] } } }, key: 'postgres.external.cidrs[1]', fixed: { postgres: { enabled: false, external: { host: 'db.example.com', existingSecret: 'db', cidrs: ['10.0.0.0/8'] } } } },
  { class: 'formats', name: 'an image repository in capitals', values: { image: { repository: 'ghcr.io/Studio/Game' } }, key: 'image.repository', fixed: { image: { repository: 'ghcr.io/studio/game' } } },
  { class: 'formats', name: 'an image repository with a tag in it', values: { redis: { image: { repository: 'docker.io/library/redis:7' } } }, key: 'redis.image.repository', fixed: { redis: { image: { repository: 'docker.io/library/redis' } } } },
  { class: 'formats', name: 'an image tag with a space', values: { image: { tag: '1.0 beta' } }, key: 'image.tag', fixed: { image: { tag: '1.0-beta' } } },
  { class: 'formats', name: 'a digest without its algorithm', values: { image: { digest: 'a'.repeat(64) } }, key: 'image.digest', fixed: { image: { digest: `sha256:${'a'.repeat(64)}` } } },
  { class: 'formats', name: 'a scrape interval in words', values: { monitoring: { serviceMonitor: { interval: '15 seconds' } } }, key: 'monitoring.serviceMonitor.interval', fixed: { monitoring: { serviceMonitor: { interval: '15s' } } } },
  { class: 'formats', name: 'an alert duration Prometheus cannot read', values: { monitoring: { prometheusRule: { saveFailuresFor: '5 min' } } }, key: 'monitoring.prometheusRule.saveFailuresFor', fixed: { monitoring: { prometheusRule: { saveFailuresFor: '5m' } } } },
  { class: 'formats', name: 'an external host with a path', values: { redis: { enabled: false, external: { host: 'cache.example.com/0', existingSecret: 'r' } } }, key: 'redis.external.host', fixed: { redis: { enabled: false, external: { host: 'cache.example.com', existingSecret: 'r' } } } },
  { class: 'formats', name: 'an Ingress host that is an IP address', values: { ingress: { enabled: true, hosts: ['203.0.113.7'] } }, key: 'ingress.hosts[0]', fixed: { ingress: { enabled: true, hosts: ['game.example.com'] } } },
  { class: 'formats', name: 'an autoscaling metric name Prometheus cannot hold', values: { gameServer: { autoscaling: { playersPerPod: { metricName: 'players-per-pod' } } } }, key: 'gameServer.autoscaling.playersPerPod.metricName', fixed: { gameServer: { autoscaling: { playersPerPod: { metricName: 'players_per_pod' } } } } },
  { class: 'formats', name: 'a toleration with a value under "Exists"', values: { gameServer: { tolerations: [{ key: 'game', operator: 'Exists', value: 'yes' }] } }, key: 'gameServer.tolerations[0]', fixed: { gameServer: { tolerations: [{ key: 'game', operator: 'Exists' }] } } },
  { class: 'formats', name: 'a toleration time without NoExecute', values: { gameServer: { tolerations: [{ key: 'game', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 60 }] } }, key: 'gameServer.tolerations[0]', fixed: { gameServer: { tolerations: [{ key: 'game', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] } } },

  { class: 'formats', name: 'a registry mirror written as a URL', values: { global: { imageRegistry: 'https://registry.example.com' } }, key: 'global.imageRegistry', fixed: { global: { imageRegistry: 'registry.example.com' } } },
  { class: 'formats', name: 'an existing claim name with capitals', values: { postgres: { persistence: { existingClaim: 'PG-Data' } } }, key: 'postgres.persistence.existingClaim', fixed: { postgres: { persistence: { existingClaim: 'pg-data' } } } },
  { class: 'formats', name: 'a volume mount at a relative path', values: { gameServer: { extraVolumes: [{ name: 'ca', secret: { secretName: 'ca' } }], extraVolumeMounts: [{ name: 'ca', mountPath: 'etc/ca' }] } }, key: 'gameServer.extraVolumeMounts[0].mountPath', fixed: { gameServer: { extraVolumes: [{ name: 'ca', secret: { secretName: 'ca' } }], extraVolumeMounts: [{ name: 'ca', mountPath: '/etc/ca' }] } } },
  { class: 'formats', name: 'a helm test error code the bots do not know', values: { tests: { check: { errors: ['internal', 'timeout'] } } }, key: 'tests.check.errors[1]', fixed: { tests: { check: { errors: ['internal', 'unavailable'] } } } },
  { class: 'formats', name: 'an extra egress rule with a malformed CIDR', values: { networkPolicy: { extraEgress: { postgres: [{ to: [{ ipBlock: { cidr: '10.0.0.0/40' } }] }] } } }, key: 'networkPolicy.extraEgress.postgres[0].to[0].ipBlock.cidr', fixed: { networkPolicy: { extraEgress: { postgres: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16' } }] }] } } } },

  { class: 'formats', name: 'an evening peak written with a seconds field (six fields)', values: { gameServer: { autoscaling: { keda: { enabled: true, cron: [{ ...{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }, start: '0 0 19 * * *' }] } } } }, key: 'gameServer.autoscaling.keda.cron[0].start', fixed: { gameServer: { autoscaling: { maxReplicas: 20, keda: { enabled: true, cron: [{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }] } } } } },
  { class: 'formats', name: 'a time zone written as an offset', values: { gameServer: { autoscaling: { keda: { enabled: true, cron: [{ ...{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }, timezone: '+09:00' }] } } } }, key: 'gameServer.autoscaling.keda.cron[0].timezone', fixed: { gameServer: { autoscaling: { maxReplicas: 20, keda: { enabled: true, cron: [{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }] } } } } },
  { class: 'formats', name: "a currency with a quote, which would break the alert's text", values: { cost: { currency: "US'D" } }, key: 'cost.currency', fixed: { cost: { currency: 'USD' } } },
  // ---- server-parsed: the server's own parser (contract/formats.ts) would refuse them and crash-loop ----
  { class: 'server-parsed', name: 'zone names instead of ids', values: { gameServer: { config: { zones: 'north,south' } } }, key: 'gameServer.config.zones', fixed: { gameServer: { config: { zones: '*' } } } },
  { class: 'server-parsed', name: 'a zone list with an empty item', values: { gameServer: { config: { zones: '0,,1' }, publicUrl: 'https://zones.example.com' } }, key: 'gameServer.config.zones', fixed: { gameServer: { config: { zones: '0,1' }, publicUrl: 'https://zones.example.com' } } },
  { class: 'server-parsed', name: 'a zone the world does not have', values: { gameServer: { config: { zones: '2-5' }, publicUrl: 'https://zones.example.com' } }, key: 'gameServer.config.zones', mentions: ['zone 5 does not exist', `--set-json 'gameServer.config.zones="2-3"'`, '--set gameServer.config.zoneCount=6'] },
  { class: 'server-parsed', name: 'a zone range that runs backwards', values: { gameServer: { config: { zones: '3-1' }, publicUrl: 'https://zones.example.com' } }, key: 'gameServer.config.zones', mentions: ['runs backwards', `--set-json 'gameServer.config.zones="1-3"'`] },
  { class: 'server-parsed', name: 'a public URL that is not http(s)', values: { gameServer: { publicUrl: 'ws://game.example.com' } }, key: 'gameServer.publicUrl', fixed: { gameServer: { publicUrl: 'https://game.example.com' } } },
  { class: 'server-parsed', name: 'a public URL with a path', values: { gameServer: { publicUrl: 'https://game.example.com/play' } }, key: 'gameServer.publicUrl', fixed: { gameServer: { publicUrl: 'https://game.example.com' } } },
  { class: 'server-parsed', name: 'a public URL with a port above 65535', values: { gameServer: { publicUrl: 'https://game.example.com:70000' } }, key: 'gameServer.publicUrl', fixed: { gameServer: { publicUrl: 'https://game.example.com:7000' } } },
  { class: 'server-parsed', name: 'a public URL whose host a URL parser reads as a bad IPv4 address', values: { gameServer: { publicUrl: 'http://10.0.0.300' } }, key: 'gameServer.publicUrl', fixed: { gameServer: { publicUrl: 'http://10.0.0.30' } } },
  { class: 'server-parsed', name: 'a wildcard Ingress host handed to players as the public URL', values: { ingress: { enabled: true, hosts: ['*.game.example.com'] } }, key: 'gameServer.publicUrl', mentions: ['ingress.hosts[0]'] },
  { class: 'server-parsed', name: 'an ICE server URL that is not STUN or TURN', values: { udp: { iceServers: [{ urls: ['https://turn.example.com'] }] } }, key: 'udp.iceServers[0].urls[0]', fixed: { udp: { iceServers: [{ urls: ['turns:turn.example.com'] }] } } },
  { class: 'server-parsed', name: 'a log level the server does not know', values: { gameServer: { config: { logLevel: 'verbose' } } }, key: 'gameServer.config.logLevel', fixed: { gameServer: { config: { logLevel: 'debug' } } } },
  { class: 'server-parsed', name: 'more snapshots than ticks', values: { gameServer: { config: { tickRate: 10, patchRate: 30 } } }, key: 'gameServer.config.patchRate', mentions: ['(30) is above gameServer.config.tickRate (10)'] },

  // ---- cross-field: rules between values ----
  // The operations switches (KEDA, VPA, the Istio mesh, cost): against each other and the cluster's kinds.
  { class: 'cross-field', name: 'both the HPA and KEDA scaling the game servers', values: { gameServer: { autoscaling: { enabled: true, keda: { enabled: true, cron: [{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }] } } } }, key: 'gameServer.autoscaling.enabled', mentions: ['gameServer.autoscaling.keda.enabled', 'fight over its replica count'] },
  { class: 'cross-field', name: 'KEDA with no trigger', values: { gameServer: { autoscaling: { keda: { enabled: true } } } }, key: 'gameServer.autoscaling.keda.cron', mentions: ['nothing to scale on', 'Asia/Seoul'] },
  { class: 'cross-field', name: 'an evening peak above the most pods the autoscaler may run', values: { gameServer: { autoscaling: { keda: { enabled: true, cron: [{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }] } } } }, key: 'gameServer.autoscaling.maxReplicas', mentions: ['gameServer.autoscaling.keda.cron[0].desiredReplicas (20)', '--set gameServer.autoscaling.keda.cron[0].desiredReplicas=10'] },
  { class: 'cross-field', name: 'a players-per-pod trigger with no Prometheus to ask', values: { gameServer: { autoscaling: { keda: { enabled: true, cron: [{ ...{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }, desiredReplicas: 5 }], prometheus: { enabled: true } } } } }, key: 'gameServer.autoscaling.keda.prometheus.serverAddress' },
  { class: 'cross-field', name: 'a queue trigger with no queue', values: { gameServer: { autoscaling: { keda: { enabled: true, cron: [{ ...{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }, desiredReplicas: 5 }], rabbitmq: { enabled: true } } } } }, key: 'gameServer.autoscaling.keda.rabbitmq.queueName' },
  { class: 'cross-field', name: 'KEDA on a cluster without KEDA', apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'], values: { gameServer: { autoscaling: { keda: { enabled: true, cron: [{ ...{ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 20 }, desiredReplicas: 5 }], rabbitmq: { enabled: true, queueName: 'login' } } } } }, key: 'gameServer.autoscaling.keda.enabled', mentions: ['no ScaledObject or TriggerAuthentication kind (keda.sh/v1alpha1)', '--api-versions keda.sh/v1alpha1/ScaledObject --api-versions keda.sh/v1alpha1/TriggerAuthentication'] },
  { class: 'cross-field', name: 'VPA resizing game servers an HPA scales on CPU', values: { vpa: { enabled: true, gameServer: { updateMode: 'Auto' } }, gameServer: { autoscaling: { enabled: true } } }, key: 'vpa.gameServer.updateMode', mentions: ['CPU (gameServer.autoscaling.targetCPUUtilizationPercentage 70) and memory (gameServer.autoscaling.targetMemoryUtilizationPercentage 80)', 'chase each other'] },
  { class: 'cross-field', name: 'VPA recreating game servers an HPA scales on memory', presets: ['production'], values: { vpa: { enabled: true, gameServer: { updateMode: 'Recreate' } }, gameServer: { autoscaling: { targetCPUUtilizationPercentage: 0 } } }, key: 'vpa.gameServer.updateMode', mentions: ['vpa.gameServer.updateMode is Recreate', 'on memory (gameServer.autoscaling.targetMemoryUtilizationPercentage 80)'] },
  { class: 'cross-field', name: 'VPA on a cluster without the Vertical Pod Autoscaler', apiVersions: [], values: { vpa: { enabled: true } }, key: 'vpa.enabled', mentions: ['no VerticalPodAutoscaler kind (autoscaling.k8s.io/v1)'] },
  { class: 'cross-field', name: 'the mesh with UDP on host ports', values: { mesh: { istio: { enabled: true } }, udp: { mode: 'hostPort' } }, key: 'udp.mode', mentions: ['mesh.istio.enabled', 'UDP never goes through the mesh'] },
  { class: 'cross-field', name: 'the mesh with game servers on the host network', values: { mesh: { istio: { enabled: true } }, udp: { mode: 'hostNetwork' }, networkPolicy: { nodeCIDRs: ['10.0.0.0/16'] } }, key: 'udp.mode', mentions: ['Istio injects no sidecar'] },
  { class: 'cross-field', name: 'the mesh on a cluster without Istio', apiVersions: [], values: { mesh: { istio: { enabled: true, canaryWeight: 5 } }, canary: { enabled: true, image: { tag: '0.2.0' } } }, key: 'mesh.istio.enabled', mentions: ['PeerAuthentication (security.istio.io/v1) or DestinationRule (networking.istio.io/v1) or VirtualService (networking.istio.io/v1)'] },
  { class: 'cross-field', name: 'a cost per player-hour with no PrometheusRule to record it', values: { cost: { enabled: true } }, key: 'monitoring.prometheusRule.enabled', mentions: ['cost.enabled is true'] },
  { class: 'cross-field', name: 'bundled Postgres off with no external host', values: { postgres: { enabled: false } }, key: 'postgres.external.host', mentions: ['--set postgres.external.host=postgres.example.com', 'postgres.external.existingSecret'] },
  { class: 'cross-field', name: 'bundled Redis off with no external host', values: { redis: { enabled: false, external: { existingSecret: 'r' } } }, key: 'redis.external.host' },
  { class: 'cross-field', name: 'bundled RabbitMQ off with no credentials Secret', values: { rabbitmq: { enabled: false, external: { host: 'mq.example.com' } } }, key: 'rabbitmq.external.existingSecret', mentions: ['kubectl -n mmo create secret generic mmo-rabbitmq'] },
  { class: 'cross-field', name: 'autoscaling minimum above its maximum', values: { gameServer: { autoscaling: { enabled: true, minReplicas: 8, maxReplicas: 4 } } }, key: 'gameServer.autoscaling.maxReplicas', mentions: ['(4) is below gameServer.autoscaling.minReplicas (8)', '--set gameServer.autoscaling.maxReplicas=8'] },
  { class: 'cross-field', name: 'autoscaling minimum above the derived maximum', presets: ['production'], values: { gameServer: { autoscaling: { minReplicas: 20 } } }, key: 'gameServer.autoscaling.maxReplicas', mentions: ['(9, derived from capacity)'] },
  { class: 'cross-field', name: 'an autoscaler with no metric', values: { gameServer: { autoscaling: { enabled: true, targetCPUUtilizationPercentage: 0, targetMemoryUtilizationPercentage: 0 } } }, key: 'gameServer.autoscaling.targetCPUUtilizationPercentage' },
  { class: 'cross-field', name: 'a PDB minAvailable not below the replicas', values: { gameServer: { replicas: 2, pdb: { minAvailable: 2 } } }, key: 'gameServer.pdb.minAvailable', mentions: ['(2) is not below the 2 stable', '--set gameServer.pdb.minAvailable=1'] },
  { class: 'cross-field', name: 'a PDB minAvailable on a single pod, whose only fix is none', values: { gameServer: { replicas: 1, pdb: { minAvailable: 1 } } }, key: 'gameServer.pdb.minAvailable', mentions: ['--set gameServer.pdb.minAvailable=null'] },
  { class: 'cross-field', name: 'a PDB minAvailable not below the autoscaling minimum', presets: ['production'], values: { gameServer: { pdb: { minAvailable: 5 } } }, key: 'gameServer.pdb.minAvailable', mentions: ['(5) is not below the 5 stable'] },
  { class: 'cross-field', name: 'a grace period not above the drain time', values: { gameServer: { terminationGracePeriodSeconds: 20, config: { drainSeconds: 30 } } }, key: 'gameServer.terminationGracePeriodSeconds', mentions: ['--set gameServer.terminationGracePeriodSeconds=45'] },
  { class: 'cross-field', name: 'a canary without its own image', values: { canary: { enabled: true } }, key: 'canary.image.tag', mentions: ['--set canary.image.tag=0.2.1'] },
  { class: 'cross-field', name: 'relay mode without a TURN server', values: { udp: { mode: 'relay' } }, key: 'udp.iceServers', mentions: ['udp.mode is relay'] },
  { class: 'cross-field', name: 'a partition without a public address', values: { gameServer: { config: { zones: '0-1' } } }, key: 'gameServer.publicUrl', mentions: ['zones is "0-1"', '--set gameServer.publicUrl=https://game.example.com'] },
  { class: 'cross-field', name: 'an Ingress without hosts', values: { ingress: { enabled: true } }, key: 'ingress.hosts' },
  { class: 'cross-field', name: 'a ServiceMonitor on a cluster without prometheus-operator', presets: ['production'], apiVersions: [], values: {}, key: 'monitoring.serviceMonitor.enabled', mentions: ['the cluster has no ServiceMonitor kind', 'kube-prometheus-stack'] },
  { class: 'cross-field', name: 'a PrometheusRule without its CRD', presets: ['staging'], apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor'], values: {}, key: 'monitoring.prometheusRule.enabled', mentions: ['--api-versions monitoring.coreos.com/v1/PrometheusRule'] },
  { class: 'cross-field', name: 'a scrape timeout longer than its interval', values: { monitoring: { serviceMonitor: { interval: '15s', scrapeTimeout: '1m' } } }, key: 'monitoring.serviceMonitor.scrapeTimeout', mentions: ['--set monitoring.serviceMonitor.scrapeTimeout=15s'] },

  { class: 'cross-field', name: 'dumps of the bundled PostgreSQL where the release runs none', values: { postgres: { enabled: false, external: { host: 'db.example.com', existingSecret: 'db' } }, backup: { pgDump: { enabled: true } } }, key: 'backup.pgDump.target', mentions: ['postgres.enabled is false', '--set backup.pgDump.target=external, or --set backup.pgDump.enabled=false'] },
  { class: 'cross-field', name: 'dumps of an external PostgreSQL the release does not use', values: { backup: { pgDump: { enabled: true, target: 'external' } } }, key: 'backup.pgDump.target', mentions: ['--set backup.pgDump.target=bundled'] },
  { class: 'cross-field', name: 'a Velero Schedule on a cluster without Velero', apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'], values: { backup: { velero: { enabled: true } } }, key: 'backup.velero.enabled', mentions: ['the cluster has no Schedule kind (velero.io/v1)', '--api-versions velero.io/v1/Schedule'] },
  { class: 'cross-field', name: 'a dump container limited below its request', values: { backup: { pgDump: { enabled: true, resources: { requests: { cpu: '2', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } } } } }, key: 'backup.pgDump.resources.limits.cpu', mentions: ['--set backup.pgDump.resources.limits.cpu=2'] },
  { class: 'cross-field', name: 'host-network game servers behind data-store policies that only know pod labels', values: { udp: { mode: 'hostNetwork' } }, key: 'networkPolicy.nodeCIDRs', mentions: ['--set networkPolicy.enabled=false'] },

  { class: 'cross-field', name: 'generated credentials in a GitOps render, which each sync would change', presets: ['production'], values: { gameServer: { autoscaling: { setReplicas: false }, auth: { existingSecret: 'mmo-auth' } }, redis: { auth: { existingSecret: 'rd' } } }, key: 'postgres.auth.existingSecret', mentions: ['rabbitmq.auth.existingSecret is empty', 'gameServer.admin.existingSecret is empty', 'docs/upgrades.md'] },
  { class: 'cross-field', name: 'an exporter ServiceMonitor without the exporter', values: { redis: { metrics: { serviceMonitor: { enabled: true } } } }, key: 'redis.metrics.serviceMonitor.enabled', mentions: ['--set redis.metrics.enabled=true'] },
  { class: 'cross-field', name: 'an exporter for a data store the chart does not run', values: { postgres: { enabled: false, external: { host: 'db.example.com', existingSecret: 'db' }, metrics: { enabled: true } } }, key: 'postgres.metrics.enabled' },
  { class: 'cross-field', name: 'an exporter ServiceMonitor on a cluster without prometheus-operator', apiVersions: [], values: { rabbitmq: { metrics: { enabled: true, serviceMonitor: { enabled: true } } } }, key: 'rabbitmq.metrics.serviceMonitor.enabled', mentions: ['--api-versions monitoring.coreos.com/v1/ServiceMonitor'] },
  { class: 'cross-field', name: 'a server variable set again through extraEnv', values: { gameServer: { extraEnv: [{ name: 'TZ', value: 'UTC' }, { name: 'MMO_TICK_RATE', value: '30' }] } }, key: 'gameServer.extraEnv[1].name', mentions: [`--set-json 'gameServer.extraEnv=[{"name":"TZ","value":"UTC"}]'`] },
  { class: 'cross-field', name: "PostgreSQL's password set again through extraEnv", values: { postgres: { extraEnv: [{ name: 'POSTGRES_PASSWORD', value: 'hunter2hunter2' }] } }, key: 'postgres.extraEnv[0].name' },
  { class: 'cross-field', name: 'a mount of a volume the pod does not have', values: { rabbitmq: { extraVolumeMounts: [{ name: 'plugins', mountPath: '/plugins' }] } }, key: 'rabbitmq.extraVolumeMounts[0].name', mentions: [`'rabbitmq.extraVolumes=[{"emptyDir":{},"name":"plugins"}]'`] },

  { class: 'formats', name: 'a backup schedule with four fields', values: { backup: { pgDump: { enabled: true, schedule: '0 4 * *' } } }, key: 'backup.pgDump.schedule', fixed: { backup: { pgDump: { enabled: true, schedule: '0 4 * * *' } } } },
  { class: 'formats', name: 'a Velero retention without a unit', values: { backup: { velero: { ttl: '720' } } }, key: 'backup.velero.ttl', fixed: { backup: { velero: { ttl: '720h' } } } },
  { class: 'formats', name: 'a backup time zone with a space', values: { backup: { pgDump: { timeZone: 'Europe/Los Angeles' } } }, key: 'backup.pgDump.timeZone', fixed: { backup: { pgDump: { timeZone: 'America/Los_Angeles' } } } },
  { class: 'ranges', name: 'keeping no dumps at all', values: { backup: { pgDump: { enabled: true, retention: 0 } } }, key: 'backup.pgDump.retention', fixed: { backup: { pgDump: { enabled: true, retention: 1 } } } },

  // ---- nulls: never a template panic ----
  { class: 'nulls', name: 'a whole section set to null', values: { gameServer: null }, key: 'gameServer', fixed: {} },
  { class: 'nulls', name: 'resources set to null (requests and limits stay required)', values: { gameServer: { resources: null } }, key: 'gameServer.resources', fixed: {} },
  { class: 'nulls', name: 'limits set to null', values: { redis: { resources: { limits: null } } }, key: 'redis.resources.limits', fixed: {} },
  { class: 'nulls', name: 'a null label value', values: { commonLabels: { team: null } }, key: 'commonLabels.team', fixed: { commonLabels: { team: 'game' } } },
  { class: 'nulls', name: 'a null in a list of hosts', values: { ingress: { enabled: true, hosts: [null] } }, key: 'ingress.hosts[0]', fixed: { ingress: { enabled: true, hosts: ['game.example.com'] } } },
  { class: 'nulls', name: 'a null toleration', values: { gameServer: { tolerations: [null] } }, key: 'gameServer.tolerations[0]', fixed: { gameServer: { tolerations: [] } } },
  { class: 'nulls', name: 'a null string', values: { gameServer: { config: { zones: null } } }, key: 'gameServer.config.zones', fixed: {} },

  // ---- labels and names ----
  { class: 'labels and names', name: 'common labels that overwrite a selector label', values: { commonLabels: { 'app.kubernetes.io/name': 'game', team: 'core' } }, key: 'commonLabels.app\\.kubernetes\\.io/name', mentions: [`--set-json 'commonLabels={"team":"core"}'`] },
  { class: 'labels and names', name: 'pod labels that overwrite the track', values: { gameServer: { podLabels: { 'mmo.dev/track': 'canary' } } }, key: 'gameServer.podLabels.mmo\\.dev/track' },
  { class: 'labels and names', name: 'dashboard labels that overwrite the instance label', values: { monitoring: { dashboard: { enabled: true, labels: { grafana_dashboard: '1', 'app.kubernetes.io/instance': 'x' } } } }, key: 'monitoring.dashboard.labels.app\\.kubernetes\\.io/instance' },
  { class: 'labels and names', name: 'a label value longer than 63 characters', values: { commonLabels: { team: 'x'.repeat(64) } }, key: 'commonLabels.team', fixed: { commonLabels: { team: 'x'.repeat(63) } } },
  { class: 'labels and names', name: 'a label value with a space', values: { gameServer: { podLabels: { team: 'game server' } } }, key: 'gameServer.podLabels.team', fixed: { gameServer: { podLabels: { team: 'game-server' } } } },
  { class: 'labels and names', name: 'a label key with a space', values: { commonLabels: { 'cost center': 'a' } }, key: 'commonLabels', mentions: ['"cost center"'] },
  { class: 'labels and names', name: 'an annotation key with two slashes', values: { service: { annotations: { 'a/b/c': 'x' } } }, key: 'service.annotations', mentions: ['"a/b/c"'] },
  { class: 'labels and names', name: 'a node selector value with a slash', values: { gameServer: { nodeSelector: { pool: 'game/servers' } } }, key: 'gameServer.nodeSelector.pool', fixed: { gameServer: { nodeSelector: { pool: 'game-servers' } } } },
  { class: 'labels and names', name: 'a name override in capitals', values: { nameOverride: 'Game' }, key: 'nameOverride', fixed: { nameOverride: 'game' } },
  { class: 'labels and names', name: 'a full name override starting with a digit (Service names start with a letter)', values: { fullnameOverride: '1game' }, key: 'fullnameOverride', fixed: { fullnameOverride: 'game1' } },
  { class: 'labels and names', name: 'a release name starting with a digit', release: '1game', values: {}, key: 'fullnameOverride', mentions: ['--set fullnameOverride=mmo-1game'], notUnderLint: 'helm lint names the release itself' },
  { class: 'labels and names', name: 'a release name with a dot', release: 'game.eu', values: {}, key: 'fullnameOverride', mentions: ['--set fullnameOverride=mmo-game-eu'], notUnderLint: 'helm lint names the release itself' },
  { class: 'labels and names', name: 'a Secret name with capitals and an underscore', values: { gameServer: { admin: { existingSecret: 'Admin_Token' } } }, key: 'gameServer.admin.existingSecret', fixed: { gameServer: { admin: { existingSecret: 'admin-token' } } } },
  { class: 'labels and names', name: 'a Secret name with two dots in a row', values: { postgres: { auth: { existingSecret: 'pg..auth' } } }, key: 'postgres.auth.existingSecret', fixed: { postgres: { auth: { existingSecret: 'pg.auth' } } } },
  { class: 'labels and names', name: 'a Secret key with a slash', values: { udp: { iceServersSecret: { name: 'turn', key: 'ice/servers' } } }, key: 'udp.iceServersSecret.key', fixed: { udp: { iceServersSecret: { name: 'turn', key: 'ice-servers' } } } },
  { class: 'labels and names', name: 'a monitoring namespace with a dot', values: { monitoring: { namespace: 'monitoring.prod' } }, key: 'monitoring.namespace', fixed: { monitoring: { namespace: 'monitoring-prod' } } },
  { class: 'labels and names', name: 'a release label value with a space', values: { monitoring: { release: 'kube prometheus' } }, key: 'monitoring.release', fixed: { monitoring: { release: 'kube-prometheus' } } },
  { class: 'labels and names', name: 'a PriorityClass in capitals', values: { gameServer: { priorityClassName: 'High' } }, key: 'gameServer.priorityClassName', fixed: { gameServer: { priorityClassName: 'high' } } },
  { class: 'labels and names', name: 'a StorageClass with an underscore', values: { redis: { persistence: { storageClass: 'fast_ssd' } } }, key: 'redis.persistence.storageClass', fixed: { redis: { persistence: { storageClass: 'fast-ssd' } } } },
  { class: 'labels and names', name: 'a pull secret name with a space', values: { imagePullSecrets: [{ name: 'my registry' }] }, key: 'imagePullSecrets[0].name', fixed: { imagePullSecrets: [{ name: 'my-registry' }] } },
  { class: 'labels and names', name: 'an IngressClass in capitals', values: { ingress: { enabled: true, className: 'NGINX', hosts: ['game.example.com'] } }, key: 'ingress.className', fixed: { ingress: { enabled: true, className: 'nginx', hosts: ['game.example.com'] } } },
  { class: 'labels and names', name: 'a TLS Secret name with an underscore', values: { ingress: { enabled: true, hosts: ['game.example.com'], tls: [{ secretName: 'game_tls' }] } }, key: 'ingress.tls[0].secretName', fixed: { ingress: { enabled: true, hosts: ['game.example.com'], tls: [{ secretName: 'game-tls' }] } } },
  { class: 'labels and names', name: 'a database user that would break the connection URL', values: { postgres: { username: 'mmo@game' } }, key: 'postgres.username', fixed: { postgres: { username: 'mmo_game' } } },
  { class: 'labels and names', name: 'a RabbitMQ user starting with a dash', values: { rabbitmq: { username: '-mmo' } }, key: 'rabbitmq.username', fixed: { rabbitmq: { username: 'mmo' } } },

  { class: 'labels and names', name: 'data-store pod labels that overwrite a selector label', values: { postgres: { podLabels: { 'app.kubernetes.io/component': 'db' } } }, key: 'postgres.podLabels.app\\.kubernetes\\.io/component' },
  { class: 'labels and names', name: 'migration pod labels that overwrite the instance label', values: { migrations: { podLabels: { 'app.kubernetes.io/instance': 'x' } } }, key: 'migrations.podLabels.app\\.kubernetes\\.io/instance' },
  { class: 'labels and names', name: "a pod annotation the chart uses to roll pods on new settings", values: { gameServer: { podAnnotations: { 'checksum/config': 'x', team: 'game' } } }, key: 'gameServer.podAnnotations.checksum/config', mentions: [`--set-json 'gameServer.podAnnotations={"team":"game"}'`] },
  { class: 'labels and names', name: "a hook annotation on the migration Job's ServiceAccount", values: { migrations: { serviceAccount: { annotations: { 'helm.sh/hook': 'post-install' } } } }, key: 'migrations.serviceAccount.annotations.helm\\.sh/hook' },
  { class: 'labels and names', name: 'a workload-identity annotation key with a space', values: { gameServer: { serviceAccount: { annotations: { 'iam role': 'x' } } } }, key: 'gameServer.serviceAccount.annotations', mentions: ['"iam role"'] },
  { class: 'labels and names', name: 'a UDP Service annotation key with two slashes', values: { udp: { serviceAnnotations: { 'a/b/c': 'x' } } }, key: 'udp.serviceAnnotations' },
  { class: 'labels and names', name: 'a node selector key with a space on the test pod', values: { tests: { nodeSelector: { 'node pool': 'ci' } } }, key: 'tests.nodeSelector' },
  { class: 'labels and names', name: 'a sidecar named like the server container', values: { gameServer: { sidecars: [sidecar('server')] } }, key: 'gameServer.sidecars[0].name', mentions: ['--set gameServer.sidecars[0].name=server-0'] },
  { class: 'labels and names', name: 'two init containers of one name', values: { redis: { initContainers: [sidecar('prep'), sidecar('prep')] } }, key: 'redis.initContainers[1].name' },
  { class: 'labels and names', name: 'an extra volume named like the chart\'s /tmp volume', values: { gameServer: { extraVolumes: [{ name: 'tmp', emptyDir: {} }], extraVolumeMounts: [{ name: 'tmp', mountPath: '/scratch' }] } }, key: 'gameServer.extraVolumes[0].name', mentions: ['--set gameServer.extraVolumes[0].name=tmp-extra --set gameServer.extraVolumeMounts[0].name=tmp-extra'] },
  { class: 'labels and names', name: 'an extra mount over the data directory', values: { postgres: { extraVolumes: [{ name: 'conf', configMap: { name: 'pg-conf' } }], extraVolumeMounts: [{ name: 'conf', mountPath: '/var/lib/postgresql/data' }] } }, key: 'postgres.extraVolumeMounts[0].mountPath' },
  { class: 'labels and names', name: 'two topology spread constraints on one key', values: { gameServer: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' }, { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' }] } }, key: 'gameServer.topologySpreadConstraints[1]' },

  // ---- port collisions ----
  { class: 'port collisions', name: 'the game node port equal to the UDP node port', values: { service: { type: 'NodePort', nodePort: 30000 } }, key: 'service.nodePort', mentions: ['one pool for TCP and UDP', '--set udp.nodePort=30001'] },
  { class: 'port collisions', name: 'the load balancer node port equal to the UDP node port', values: { service: { type: 'LoadBalancer', nodePort: 31000 }, udp: { nodePort: 31000 } } , key: 'service.nodePort' },
  { class: 'port collisions', name: 'a sidecar on the game port', values: { gameServer: { sidecars: [sidecar('proxy', { ports: [{ containerPort: 9000 }, { containerPort: 8080 }] })] } }, key: 'gameServer.sidecars[0].ports[1].containerPort', mentions: [`--set-json 'gameServer.sidecars[0].ports=[{"containerPort":9000}]'`] },
  { class: 'port collisions', name: 'a sidecar on the UDP node port the server binds', values: { gameServer: { sidecars: [sidecar('stun', { ports: [{ containerPort: 30000, protocol: 'UDP' }] })] } }, key: 'gameServer.sidecars[0].ports[0].containerPort' },
  { class: 'port collisions', name: "a PostgreSQL sidecar on the exporter's port", values: { postgres: { metrics: { enabled: true }, sidecars: [sidecar('pgbouncer', { ports: [{ containerPort: 9187 }] })] } }, key: 'postgres.sidecars[0].ports[0].containerPort' },
  { class: 'port collisions', name: "a RabbitMQ sidecar on Erlang's distribution port", values: { rabbitmq: { sidecars: [sidecar('shovel', { ports: [{ containerPort: 25672 }] })] } }, key: 'rabbitmq.sidecars[0].ports[0].containerPort' },
];
