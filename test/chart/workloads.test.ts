// What studios add to every workload of the chart (game servers, data stores, the migration Job, the
// test pod): registries and pull secrets, placement, identity, extra containers and volumes,
// exporters, policy rules. The toggle matrix (cases.ts) proves these render valid, admitted objects;
// here each knob is shown to reach exactly where it should.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { COMPONENTS, LABELS } from '../../contract/labels.ts';
import { find, podSpecs, render, type Container } from '../support/chart.ts';
import type { Manifest } from '../support/k8s-strict.ts';
import { allows, type PodEndpoint } from '../support/netpol.ts';
import { CASES } from './cases.ts';

const rendered = new Map<string, Manifest[]>();
const named = (name: string) => rendered.get(name)!;
const helm4 = () => inject('helmPaths')[4];

beforeAll(async () => {
  const wanted = CASES.filter((c) => c.name === 'chart defaults' || /registry mirror|placement|extra env|existing claims|exporters|NetworkPolicy rules/.test(c.name));
  await Promise.all(wanted.map(async (c) => rendered.set(c.name, await render(helm4(), c))));
}, 120_000);

const containersOf = (spec: { containers: Container[]; initContainers?: Container[] }) => [...(spec.initContainers ?? []), ...spec.containers];
const workloadOf = (labels: Record<string, string>) => labels[LABELS.component]!;
/** The workloads of every install (backups are off unless asked for): a loop over them checks each. */
const EVERY_INSTALL = new Set<string>(Object.values(COMPONENTS).filter((c) => c !== COMPONENTS.backup));

describe('images', () => {
  it('a registry mirror moves every image the chart runs, keeping its path', () => {
    const images = podSpecs(named('a registry mirror, pull secrets and platform-assigned ids (OpenShift)')).flatMap((p) => containersOf(p.spec).map((c) => c.image));
    expect(images.length).toBeGreaterThan(8);
    for (const image of images) expect(image).toMatch(/^registry\.example\.com:5000\/mirror\//);
    expect(images).toContain('registry.example.com:5000/mirror/library/postgres:17.5-bookworm');
    expect(images).toContain('registry.example.com:5000/mirror/mmoctl/mmo-server:0.2.0');
    expect(images).toContain('registry.example.com:5000/mirror/prometheuscommunity/postgres-exporter:v0.17.1');
  });

  it('gives every pod the pull secrets of both lists, each once', () => {
    const pods = podSpecs(named('a registry mirror, pull secrets and platform-assigned ids (OpenShift)'));
    expect(new Set(pods.map((p) => workloadOf(p.labels)))).toEqual(EVERY_INSTALL);
    for (const { owner, spec } of pods) {
      expect(spec.imagePullSecrets, owner.metadata.name).toEqual([{ name: 'studio-pull' }, { name: 'mirror-pull' }]);
    }
  });
});

describe('security context', () => {
  it('leaves user, group and fsGroup ids to the platform where it assigns them, and still refuses root', () => {
    const pods = podSpecs(named('a registry mirror, pull secrets and platform-assigned ids (OpenShift)'));
    expect(new Set(pods.map((p) => workloadOf(p.labels)))).toEqual(EVERY_INSTALL);
    for (const { owner, spec } of pods) {
      expect(spec.securityContext, owner.metadata.name).not.toHaveProperty('runAsUser');
      expect(spec.securityContext, owner.metadata.name).not.toHaveProperty('fsGroup');
      expect(spec.securityContext?.runAsNonRoot).toBe(true);
    }
  });

  it('adapts by itself on a cluster that serves OpenShift security constraints ("auto")', async () => {
    const values = [{ global: { compatibility: { openshift: { adaptSecurityContext: 'auto' } } } }];
    const plain = await render(helm4(), { values });
    const openshift = await render(helm4(), { values, apiVersions: ['security.openshift.io/v1'] });
    // Every workload of the chart in both renders, so `every` below cannot pass on an empty list.
    for (const r of [plain, openshift]) expect(new Set(podSpecs(r).map((p) => workloadOf(p.labels)))).toEqual(EVERY_INSTALL);
    expect(podSpecs(plain).every((p) => p.spec.securityContext?.runAsUser !== undefined)).toBe(true);
    expect(podSpecs(openshift).every((p) => p.spec.securityContext?.runAsUser === undefined)).toBe(true);
  });
});

describe('placement', () => {
  it('reaches every workload: node selector, tolerations, priority, affinity, spread, pod labels and annotations', () => {
    const pods = podSpecs(named('placement, labels and workload identity on every workload'));
    expect(new Set(pods.map((p) => workloadOf(p.labels)))).toEqual(new Set(Object.values(COMPONENTS)));
    for (const { owner, labels, spec } of pods) {
      const pool = workloadOf(labels) === COMPONENTS.gameServer || ['migrate', 'test'].includes(workloadOf(labels)) ? 'game' : 'stateful';
      expect(spec.nodeSelector, owner.metadata.name).toEqual({ 'example.com/pool': pool });
      expect(spec.tolerations, owner.metadata.name).toEqual([{ key: 'example.com/dedicated', operator: 'Equal', value: pool, effect: 'NoSchedule' }]);
      expect(spec.priorityClassName, owner.metadata.name).toBe('mmo-test-priority');
      expect((spec.affinity as { nodeAffinity?: unknown }).nodeAffinity, owner.metadata.name).toBeDefined();
      expect(labels.team, owner.metadata.name).toBe('game');
      // A spread constraint without a selector selects the workload's own pods.
      const spread = spec.topologySpreadConstraints as { labelSelector: { matchLabels: Record<string, string> } }[];
      expect(spread[0]!.labelSelector.matchLabels[LABELS.component], owner.metadata.name).toBe(workloadOf(labels));
      type Template = { template: { metadata: { annotations?: Record<string, string> } } };
      const annotations = owner.kind === 'Pod' ? owner.metadata.annotations : owner.kind === 'CronJob' ? (owner.spec as { jobTemplate: { spec: Template } }).jobTemplate.spec.template.metadata.annotations : (owner.spec as Template).template.metadata.annotations;
      expect(annotations?.['example.com/owner'], owner.metadata.name).toBe('game-team');
    }
  });

  it('keeps one game server per node when a studio adds anti-affinity of its own', () => {
    const game = podSpecs(named('placement, labels and workload identity on every workload')).find((p) => workloadOf(p.labels) === COMPONENTS.gameServer)!;
    const anti = (game.spec.affinity as { podAntiAffinity: Record<string, { topologyKey?: string; podAffinityTerm?: { topologyKey: string } }[]> }).podAntiAffinity;
    expect(anti.requiredDuringSchedulingIgnoredDuringExecution?.map((t) => t.topologyKey)).toEqual(['kubernetes.io/hostname']);
    expect(anti.preferredDuringSchedulingIgnoredDuringExecution?.map((t) => t.podAffinityTerm!.topologyKey)).toEqual(['topology.kubernetes.io/zone']);
  });

  it('puts workload identity on each ServiceAccount, the migration hook keeping its hook annotations', () => {
    const accounts = named('placement, labels and workload identity on every workload').filter((m) => m.kind === 'ServiceAccount');
    expect(accounts.map((a) => a.metadata.name).sort()).toEqual(['game-mmo-backup', 'game-mmo-migrate', 'game-mmo-postgres', 'game-mmo-rabbitmq', 'game-mmo-redis', 'game-mmo-server']);
    for (const a of accounts) expect(a.metadata.annotations?.['iam.gke.io/gcp-service-account'], a.metadata.name).toBe('game@example-project.iam.gserviceaccount.com');
    expect(find(accounts, 'ServiceAccount', 'game-mmo-migrate').metadata.annotations?.['helm.sh/hook']).toBe('pre-upgrade');
  });
});

describe('containers and volumes a studio adds', () => {
  it('runs them next to the chart’s, restricted and read-only unless they bring a security context', () => {
    const pods = podSpecs(named('extra env, volumes, sidecars and init containers'));
    const game = pods.find((p) => workloadOf(p.labels) === COMPONENTS.gameServer)!;
    expect(game.spec.containers.map((c) => c.name)).toEqual(['server', 'sql-proxy']);
    expect(game.spec.initContainers!.map((c) => c.name)).toEqual(['node-address', 'migrate', 'warm-up']);
    for (const c of [...game.spec.containers, ...game.spec.initContainers!]) expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
    const server = game.spec.containers[0]!;
    expect(server.volumeMounts?.at(-1)).toEqual({ name: 'db-ca', mountPath: '/etc/db-ca', readOnly: true });
    expect(server.env?.slice(-2).map((e) => e.name)).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT', 'NODE_OPTIONS']);
    const postgres = pods.find((p) => workloadOf(p.labels) === COMPONENTS.postgres)!;
    expect(postgres.spec.containers.map((c) => c.name)).toEqual(['postgres', 'backup']);
    expect(postgres.spec.volumes?.map((v) => v.name)).toEqual(['run', 'tmp', 'initdb']);
  });

  it('keeps a data store on an existing claim instead of the claim template, with the retention asked for', () => {
    const ms = named('data stores on existing claims, with retention, PDBs and a memory /dev/shm');
    const pg = find(ms, 'StatefulSet', 'game-mmo-postgres').spec as { volumeClaimTemplates?: unknown; template: { spec: { volumes: { name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: { medium?: string } }[] } } };
    expect(pg.volumeClaimTemplates).toBeUndefined();
    expect(pg.template.spec.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim).toEqual({ claimName: 'pg-data' });
    expect(pg.template.spec.volumes.find((v) => v.name === 'shm')?.emptyDir?.medium).toBe('Memory');
    expect((find(ms, 'StatefulSet', 'game-mmo-redis').spec as { persistentVolumeClaimRetentionPolicy: unknown }).persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Delete', whenScaled: 'Retain' });
    expect((find(ms, 'StatefulSet', 'game-mmo-rabbitmq').spec as { persistentVolumeClaimRetentionPolicy: unknown }).persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });
});

describe('data-store metrics', () => {
  it.each([
    ['postgres', 9187],
    ['redis', 9121],
    ['rabbitmq', 15692],
  ] as const)('%s: a metrics port on its client Service only, a ServiceMonitor on it, and Prometheus let in to that port alone', (store, port) => {
    const ms = named('data-store exporters and their ServiceMonitors');
    const ports = (name: string) => (find(ms, 'Service', name).spec as { ports: { name: string; port: number }[] }).ports;
    expect(ports(`game-mmo-${store}`).find((p) => p.name === 'metrics')?.port).toBe(port);
    expect(ports(`game-mmo-${store}-headless`).map((p) => p.name)).not.toContain('metrics');
    const monitor = find(ms, 'ServiceMonitor', `game-mmo-${store}`).spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    expect(monitor.selector.matchLabels[LABELS.component]).toBe(store);
    expect(monitor.endpoints.map((e) => e.port)).toEqual(['metrics']);
    const pod = podSpecs(ms).find((p) => workloadOf(p.labels) === store)!;
    const target: PodEndpoint = { kind: 'pod', name: store, namespace: 'mmo', namespaceLabels: {}, labels: pod.labels, ports: pod.spec.containers.flatMap((c) => c.ports ?? []) };
    const prometheus: PodEndpoint = { kind: 'pod', name: 'Prometheus', namespace: 'monitoring', namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, labels: {} };
    const policies = ms.filter((m) => m.kind === 'NetworkPolicy');
    expect(allows(policies, prometheus, target, port, 'TCP')).toBe(true);
    expect(allows(policies, prometheus, target, port - 1, 'TCP')).toBe(false);
  });

  it('runs no exporter, port or ServiceMonitor by default', () => {
    const ms = named('chart defaults');
    expect(ms.filter((m) => m.kind === 'ServiceMonitor')).toEqual([]);
    expect(podSpecs(ms).filter((p) => p.owner.kind === 'StatefulSet').flatMap((p) => p.spec.containers.map((c) => c.name))).toEqual(['postgres', 'rabbitmq', 'redis']);
  });
});

describe('extra NetworkPolicy rules', () => {
  it('land in the policy of the workload they name, and nowhere else', () => {
    const ms = named('extra NetworkPolicy rules and UDP Service annotations');
    const rules = (name: string, dir: 'ingress' | 'egress') => JSON.stringify((find(ms, 'NetworkPolicy', name).spec as Record<string, unknown>)[dir] ?? []);
    expect(rules('game-mmo-server', 'ingress')).toContain('"mesh"');
    expect(rules('game-mmo-server', 'egress')).toContain('10.20.0.0/16');
    expect(rules('game-mmo-redis', 'ingress')).toContain('redis-backup');
    expect(rules('game-mmo-postgres', 'egress')).toContain('"except":["10.0.0.0/8"]');
    expect(rules('game-mmo-postgres', 'ingress')).not.toContain('redis-backup');
    expect(rules('game-mmo-rabbitmq', 'egress')).toBe('[]');
    expect(find(ms, 'Service', 'game-mmo-server-udp').metadata.annotations).toEqual({ 'example.com/firewall-rule': 'game-udp' });
  });
});
