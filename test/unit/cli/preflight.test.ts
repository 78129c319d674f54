// Each preflight check on crafted clusters and values: pass, warn, fail and skip, with the message a
// user reads. The cluster suite runs the same checks against the rig.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject, V1Namespace, V1Service } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PreflightContext, type Rendered } from '../../../cli/checks/context.ts';
import { PREFLIGHT, podOf } from '../../../cli/checks/preflight.ts';
import { runChecks, type CheckResult } from '../../../cli/checks/runner.ts';
import type { Problem } from '../../../cli/errors.ts';
import { podTemplates, type Manifest } from '../../../cli/manifests.ts';
import { CHART_DIR } from '../../../cli/package.ts';
import type { ValidatedValues } from '../../../cli/values/validate.ts';
import { FakeHelm, FakeKube, node, pod } from './fakes.ts';

const NS = 'game';
const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && !Array.isArray(prev) && v && typeof v === 'object' && !Array.isArray(v) ? merge(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

const namespace = (level?: string): V1Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: level ? { 'pod-security.kubernetes.io/enforce': level } : {} } });

const gameDeployment = (replicas = 2, cpu = '1'): Manifest => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'mmo-server', namespace: NS },
  spec: {
    replicas,
    template: {
      metadata: { labels: { 'app.kubernetes.io/component': 'game-server', 'mmo.dev/track': 'stable' } },
      spec: {
        serviceAccountName: 'mmo-server',
        containers: [{ name: 'server', image: 'x', resources: { requests: { cpu, memory: '1Gi' } } }],
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'mmo' } } }] } },
      },
    },
  },
});

interface Scenario {
  values?: Record<string, unknown>;
  problems?: Problem[];
  objects?: Manifest[];
  kube?: FakeKube;
  helm?: FakeHelm;
  createNamespace?: boolean;
}

class TestContext extends PreflightContext {
  private readonly scenario: Scenario;
  constructor(s: Scenario, kube: FakeKube, helm: FakeHelm) {
    super({ ref: { release: 'mmo', namespace: NS }, chart: { ref: CHART_DIR, dir: CHART_DIR, bundled: true }, inputs: { files: [], sets: [] }, createNamespace: s.createNamespace ?? false, helm: async () => helm, kube: async () => kube });
    this.scenario = s;
  }
  override async validated(): Promise<ValidatedValues> {
    return { request: { chart: this.input.chart, valueFiles: [], sets: [] }, sources: undefined as never, values: merge(defaults, this.scenario.values ?? {}), problems: this.scenario.problems ?? [] };
  }
  override async rendered(): Promise<Rendered> {
    const objects = this.scenario.objects ?? [gameDeployment(), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mmo-server', namespace: NS } }];
    return { objects, hooks: [], how: 'server' };
  }
}

/** Runs every preflight check on the scenario and returns the one asked for. */
async function check(id: string, s: Scenario = {}): Promise<CheckResult> {
  const kube = s.kube ?? new FakeKube({ Namespace: [namespace('restricted')], Node: [node('a'), node('b'), node('c')], StorageClass: [{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } } as KubernetesObject] });
  const results = await runChecks(PREFLIGHT, new TestContext(s, kube, s.helm ?? new FakeHelm()), { timeoutMs: 5000 });
  const r = results.find((x) => x.id === id);
  if (!r) throw new Error(`no check ${id}`);
  return r;
}

const kubeWith = (extra: ConstructorParameters<typeof FakeKube>[0] = {}) =>
  new FakeKube({
    Namespace: [namespace('restricted')],
    Node: [node('a', { addresses: { InternalIP: '10.0.0.1', ExternalIP: '203.0.113.1' } }), node('b', { addresses: { InternalIP: '10.0.0.2', ExternalIP: '203.0.113.2' } }), node('c', { addresses: { InternalIP: '10.0.0.3', ExternalIP: '203.0.113.3' } })],
    StorageClass: [{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } } as KubernetesObject],
    ...extra,
  });

describe('preflight: values and cluster', () => {
  it('lists every values problem with its key, source and fix', async () => {
    const r = await check('values.valid', { problems: [{ key: 'gameServer.replicas', source: 'v.yaml:3:3', message: 'expected integer or null, got string "x"', fix: '--set gameServer.replicas=null' }] });
    expect(r.status).toBe('fail');
    expect(r.message).toBe('1 problem:\n  × gameServer.replicas: expected integer or null, got string "x"\n      at v.yaml:3:3\n      fix: --set gameServer.replicas=null');
  });

  it('fails with the cause and what to try when the API server cannot be reached, and skips what needs it', async () => {
    const kube = kubeWith();
    kube.unreachable = true;
    const api = await check('cluster.api', { kube });
    expect(api.status).toBe('fail');
    expect(api.message).toMatch(/not reachable \(ECONNREFUSED\)\. Is the cluster running, and is this the right one/);
    expect((await check('capacity.fit', { kube })).status).toBe('skip');
  });

  it.each([
    { version: 'v1.33.2', status: 'pass', message: /v1\.33\.2, inside >= 1\.27/ },
    { version: 'v1.26.9', status: 'fail', message: /the cluster runs v1\.26\.9; the chart supports >= 1\.27/ },
  ])('judges Kubernetes $version against the chart', async ({ version, status, message }) => {
    const kube = kubeWith();
    kube.gitVersion = version;
    const r = await check('cluster.version', { kube });
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
  });

  it.each([
    { name: 'exists with its Pod Security level', kube: () => kubeWith(), create: false, status: 'pass', message: /game, Pod Security "restricted" enforced/ },
    { name: 'is missing and will be created', kube: () => kubeWith({ Namespace: [] }), create: true, status: 'pass', message: /game will be created/ },
    { name: 'is missing without --create-namespace', kube: () => kubeWith({ Namespace: [] }), create: false, status: 'fail', message: /does not exist\. Add --create-namespace/ },
  ])('namespace check: $name', async ({ kube, create, status, message }) => {
    const r = await check('cluster.namespace', { kube: kube(), createNamespace: create });
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
  });

  it('warns instead of failing when the user may not read the namespace', async () => {
    const kube = kubeWith();
    kube.forbidden.add('Namespace');
    expect(await check('cluster.namespace', { kube })).toMatchObject({ status: 'warn', message: expect.stringMatching(/you may not read namespace game/) });
  });

  it.each([
    { state: undefined, status: 'pass', message: /no release yet/ },
    { state: 'deployed', status: 'pass', message: /revision 3 is deployed/ },
    { state: 'failed', status: 'warn', message: /last operation failed at revision 3/ },
    { state: 'pending-upgrade', status: 'fail', message: /is pending-upgrade at revision 3.*mmoctl rollback/ },
  ])('release state $state', async ({ state, status, message }) => {
    const helm = new FakeHelm();
    if (state) helm.releases.set(`${NS}/mmo`, { name: 'mmo', namespace: NS, revision: 3, status: state as never, chart: 'mmo-0.2.0', chartVersion: '0.2.0', appVersion: '0.2.0', updated: '', description: 'x' });
    const r = await check('release.state', { helm });
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
  });
});

describe('preflight: permissions and admission', () => {
  it('passes when every permission is granted, and fails naming a denied one', async () => {
    expect((await check('rbac.release', { kube: kubeWith() })).status).toBe('pass');
    const kube = kubeWith();
    kube.denied.add('delete apps/deployments');
    const r = await check('rbac.release', { kube });
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/tester may not:\n {2}- delete deployments\.apps in namespace game: the release holds Deployment\/mmo-server/);
  });

  it('warns when cluster-wide reads are denied', async () => {
    const kube = kubeWith();
    kube.denied.add('list /nodes');
    expect(await check('rbac.read', { kube })).toMatchObject({ status: 'warn', message: expect.stringContaining('list nodes (cluster-wide)') });
  });

  it('dry-runs every object and the pod each workload would create, and lists what the API server refuses', async () => {
    const kube = kubeWith();
    kube.refuse.set('Pod/mmo-server-preflight', 'violates PodSecurity "restricted:latest": hostPort');
    const r = await check('admission.dry-run', { kube });
    expect(r.status).toBe('fail');
    expect(r.message).toBe('the API server refuses 1 of them:\n  - a pod of Deployment/mmo-server: violates PodSecurity "restricted:latest": hostPort');
    expect(kube.dryRuns.sort()).toEqual(['Deployment/mmo-server', 'Pod/mmo-server-preflight', 'ServiceAccount/mmo-server']);
  });

  it('skips the dry run while the namespace does not exist yet', async () => {
    expect(await check('admission.dry-run', { kube: kubeWith({ Namespace: [] }), createNamespace: true })).toMatchObject({ status: 'skip', message: expect.stringMatching(/does not exist yet/) });
  });

  it('builds the pod a StatefulSet would create with its claims, on the default account when the release makes its own', () => {
    const sts: Manifest = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'mmo-postgres', namespace: NS }, spec: { volumeClaimTemplates: [{ metadata: { name: 'data' } }], template: { metadata: { labels: { a: 'b' } }, spec: { serviceAccountName: 'mmo-postgres', containers: [{ name: 'pg', image: 'x' }] } } } };
    const sa: Manifest = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mmo-postgres', namespace: NS } };
    const p = podOf(podTemplates([sts])[0]!, [sts, sa], NS) as { spec: { volumes: unknown[]; serviceAccountName?: string; automountServiceAccountToken: boolean } };
    expect(p.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-mmo-postgres-0' } }]);
    expect(p.spec.serviceAccountName).toBeUndefined();
    expect(p.spec.automountServiceAccountToken).toBe(false);
  });
});

describe('preflight: what the values need from the cluster', () => {
  it('skips the CRD check with monitoring off, and fails naming the missing kinds and the --set that turns them off', async () => {
    expect((await check('cluster.crds')).status).toBe('skip');
    const r = await check('cluster.crds', { values: { monitoring: { serviceMonitor: { enabled: true } } } });
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/no ServiceMonitor kind \(monitoring\.coreos\.com\/v1\).*--set monitoring\.serviceMonitor\.enabled=false$/s);
    const kube = kubeWith();
    kube.resources.set('monitoring.coreos.com/v1/ServiceMonitor', { plural: 'servicemonitors', namespaced: true });
    expect((await check('cluster.crds', { kube, values: { monitoring: { serviceMonitor: { enabled: true } } } })).status).toBe('pass');
  });

  it("skips the operations CRD check with KEDA, VPA, the mesh and Velero off, and names each missing project's kinds with the --set that turns it off", async () => {
    expect((await check('cluster.operations-crds')).status).toBe('skip');
    const values = { gameServer: { autoscaling: { keda: { enabled: true } } }, vpa: { enabled: true }, mesh: { istio: { enabled: true } } };
    const kube = kubeWith();
    kube.resources.set('autoscaling.k8s.io/v1/VerticalPodAutoscaler', { plural: 'verticalpodautoscalers', namespaced: true });
    const r = await check('cluster.operations-crds', { kube, values });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('KEDA (ScaledObject (keda.sh/v1alpha1), TriggerAuthentication (keda.sh/v1alpha1)): install it, or --set gameServer.autoscaling.keda.enabled=false');
    expect(r.message).toContain('Istio (PeerAuthentication (security.istio.io/v1), DestinationRule (networking.istio.io/v1), VirtualService (networking.istio.io/v1)): install it, or --set mesh.istio.enabled=false');
    expect(r.message).not.toContain('Vertical Pod Autoscaler');
    for (const [k, plural] of [['keda.sh/v1alpha1/ScaledObject', 'scaledobjects'], ['keda.sh/v1alpha1/TriggerAuthentication', 'triggerauthentications']] as const) kube.resources.set(k, { plural, namespaced: true });
    const keda = await check('cluster.operations-crds', { kube, values: { gameServer: { autoscaling: { keda: { enabled: true } } } } });
    expect(keda.status).toBe('pass');
    expect(keda.message).toBe('ScaledObject, TriggerAuthentication');
    const velero = await check('cluster.operations-crds', { kube, values: { backup: { velero: { enabled: true } } } });
    expect(velero.status).toBe('fail');
    expect(velero.message).toContain('Velero (Schedule (velero.io/v1)): install it, or --set backup.velero.enabled=false');
    kube.resources.set('velero.io/v1/Schedule', { plural: 'schedules', namespaced: true });
    expect((await check('cluster.operations-crds', { kube, values: { backup: { velero: { enabled: true } } } })).message).toBe('Schedule');
  });

  it.each([
    { name: 'the default class serves every volume', values: {}, classes: true, status: 'pass', message: /standard \(default\)/ },
    { name: 'a named class that does not exist', values: { redis: { persistence: { storageClass: 'fast' } } }, classes: true, status: 'fail', message: /redis\.persistence\.storageClass is "fast", which does not exist \(classes: standard\)/ },
    { name: 'no default class', values: {}, classes: false, status: 'fail', message: /no default StorageClass.*--set postgres\.persistence\.storageClass=<class>/ },
    { name: 'no bundled data service', values: { postgres: { enabled: false }, redis: { enabled: false }, rabbitmq: { enabled: false } }, classes: true, status: 'skip', message: /no volumes/ },
  ])('storage: $name', async ({ values, classes, status, message }) => {
    const r = await check('cluster.storage', { values, kube: kubeWith(classes ? {} : { StorageClass: [] }) });
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
  });

  it.each([
    { name: 'off', values: {}, classes: [], status: 'skip' },
    { name: 'a named class that exists', values: { ingress: { enabled: true, className: 'nginx', hosts: ['g.example.com'] } }, classes: ['nginx'], status: 'pass' },
    { name: 'a named class that does not exist', values: { ingress: { enabled: true, className: 'traefik', hosts: ['g.example.com'] } }, classes: ['nginx'], status: 'fail' },
    { name: 'no class and no default', values: { ingress: { enabled: true, hosts: ['g.example.com'] } }, classes: ['nginx'], status: 'warn' },
  ])('ingress class: $name', async ({ values, classes, status }) => {
    const kube = kubeWith({ IngressClass: classes.map((name) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name } }) as KubernetesObject) });
    expect((await check('cluster.ingress-class', { values, kube })).status).toBe(status);
  });

  it('checks that each external data service has its Secret and key', async () => {
    const external = { postgres: { enabled: false, external: { host: 'db.example.com', existingSecret: 'pg', existingSecretKey: 'url' } } };
    const missing = await check('external.services', { values: external });
    expect(missing).toMatchObject({ status: 'fail', message: expect.stringContaining('Secret pg does not exist in game. Fix: kubectl -n game create secret generic pg --from-literal=url=<url>') });
    const noKey = await check('external.services', { values: external, kube: kubeWith({ Secret: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pg', namespace: NS }, data: { uri: 'eA==' } } as KubernetesObject] }) });
    expect(noKey.message).toMatch(/Secret pg has no key "url" \(keys: uri\)/);
    const ok = await check('external.services', { values: external, kube: kubeWith({ Secret: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pg', namespace: NS }, data: { url: 'eA==' } } as KubernetesObject] }) });
    expect(ok).toMatchObject({ status: 'pass', message: 'postgres at db.example.com' });
  });
});

describe('preflight: capacity and the UDP path', () => {
  it('passes with room for the pods and a rollout surge, and fails naming what would not be scheduled', async () => {
    expect((await check('capacity.fit')).status).toBe('pass');
    const r = await check('capacity.fit', { objects: [gameDeployment(3)] });
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/^1 pod would not be scheduled:\n {2}- Deployment\/mmo-server \(1 pod\): it needs a node of its own/);
  });

  it('warns when the user may not list nodes', async () => {
    const kube = kubeWith();
    kube.forbidden.add('Node');
    expect((await check('capacity.fit', { kube })).status).toBe('warn');
  });

  it.each([
    { name: 'UDP off', values: { udp: { mode: 'disabled' } }, kube: () => kubeWith(), status: 'skip' },
    { name: 'every node has the announced address type', values: { udp: { mode: 'nodePort' } }, kube: () => kubeWith(), status: 'pass' },
    { name: 'no node has it', values: { udp: { mode: 'nodePort' } }, kube: () => kubeWith({ Node: [node('a', { addresses: { InternalIP: '10.0.0.1' } })] }), status: 'fail' },
    { name: 'some nodes lack it', values: { udp: { mode: 'nodePort' } }, kube: () => kubeWith({ Node: [node('a'), node('b', { addresses: { InternalIP: '10.0.0.2' } })] }), status: 'warn' },
  ])('announced addresses: $name', async ({ values, kube, status }) => {
    expect((await check('udp.addresses', { values, kube: kube() })).status).toBe(status);
  });

  it('fails naming the Service or pod that holds the players\' UDP port', async () => {
    const taker: V1Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'dns', namespace: 'infra' }, spec: { ports: [{ port: 53, nodePort: 30000, protocol: 'UDP' }] } };
    const node = await check('udp.port', { values: { udp: { mode: 'nodePort', nodePort: 30000 } }, kube: kubeWith({ Service: [taker] }) });
    expect(node.message).toBe('node port 30000 is taken by Service infra/dns. Fix: --set udp.nodePort=<another port in 30000-32767>');
    const host = await check('udp.port', { values: { udp: { mode: 'hostPort', port: 20000 } }, kube: kubeWith({ Pod: [pod('voice', 'a', '10m', '10Mi', { namespace: 'voip', hostPort: 20000 })] }) });
    expect(host.message).toBe('host port 20000/UDP is used by voip/voice on a. Fix: --set udp.port=<another port>');
    expect((await check('udp.port', { values: { udp: { mode: 'hostPort', port: 20001 } }, kube: kubeWith({ Pod: [pod('voice', 'a', '10m', '10Mi', { hostPort: 20000 })] }) })).status).toBe('pass');
  });

  it.each([
    { mode: 'hostPort', level: 'restricted', status: 'fail' },
    { mode: 'hostNetwork', level: 'baseline', status: 'fail' },
    { mode: 'hostPort', level: 'privileged', status: 'pass' },
    { mode: 'nodePort', level: 'restricted', status: 'pass' },
  ])('Pod Security: $mode under $level', async ({ mode, level, status }) => {
    expect((await check('udp.pod-security', { values: { udp: { mode } }, kube: kubeWith({ Namespace: [namespace(level)] }) })).status).toBe(status);
  });
});
