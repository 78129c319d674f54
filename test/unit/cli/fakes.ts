/**
 * Hand-written fakes of the CLI's edges for unit tests: a Kube holding objects in memory (with
 * refusals and outages on demand) and a Helm holding releases. The real ones are proven against the
 * rig in the cluster suite.
 */
import type { KubernetesObject, V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { HelmError, type ChartRequest, type Helm, type HelmBinary, type HelmRelease, type HelmRevision, type ReleaseRef } from '../../../cli/helm/helm.ts';
import { KubeError, type AccessAnswer, type AccessQuestion, type Kind, type Kinds, type Kube, type ListOptions } from '../../../cli/kube/kube.ts';

export class FakeKube implements Kube {
  readonly identity = { context: 'fake', server: 'https://fake.invalid:6443', user: 'tester' };
  gitVersion = 'v1.33.2';
  /** Objects by kind. */
  readonly objects = new Map<Kind, KubernetesObject[]>();
  /** Kinds whose reads are refused (403). */
  readonly forbidden = new Set<Kind>();
  /** Discovery: `apiVersion/Kind` → plural and scope. */
  readonly resources = new Map<string, { plural: string; namespaced: boolean }>();
  /** `verb group/resource` denied by SelfSubjectAccessReview. */
  readonly denied = new Set<string>();
  /** Dry runs refused, by `Kind/name`, with the API server's message. */
  readonly refuse = new Map<string, string>();
  unreachable = false;
  readonly dryRuns: string[] = [];
  /** Container logs by `pod/container` (`pod/container/previous` for the run before a restart); others fail as on the rig. */
  readonly logText = new Map<string, string>();
  /** Every list and get, as `list Kind` / `get Kind`. */
  readonly calls: string[] = [];

  constructor(seed: Partial<Record<Kind, KubernetesObject[]>> = {}) {
    for (const [kind, list] of Object.entries(seed)) this.objects.set(kind as Kind, [...(list ?? [])]);
    for (const [av, kind, plural, namespaced] of [
      ['v1', 'Service', 'services', true], ['v1', 'ConfigMap', 'configmaps', true], ['v1', 'Secret', 'secrets', true], ['v1', 'ServiceAccount', 'serviceaccounts', true],
      ['apps/v1', 'Deployment', 'deployments', true], ['apps/v1', 'StatefulSet', 'statefulsets', true], ['batch/v1', 'Job', 'jobs', true],
      ['networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true], ['policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true],
      ['autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true],
      ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false], ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false],
    ] as const) this.resources.set(`${av}/${kind}`, { plural, namespaced });
  }

  private check(what: string): void {
    if (this.unreachable) throw new KubeError(0, 'ECONNREFUSED', `cannot ${what}: the API server ${this.identity.server} (context fake) is not reachable (ECONNREFUSED)`);
  }

  async version() {
    this.check('read the server version');
    const [major, minor] = this.gitVersion.slice(1).split('.');
    return { gitVersion: this.gitVersion, major: major!, minor: minor! };
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<Kinds[K][]> {
    this.calls.push(`list ${kind}`);
    this.check(`list ${kind}s`);
    if (this.forbidden.has(kind)) throw new KubeError(403, 'Forbidden', `cannot list ${kind}s: forbidden`);
    const terms = (selector: string | undefined) => (selector ?? '').split(',').filter(Boolean).map((t) => t.split('=') as [string, string]);
    const match = (o: KubernetesObject) =>
      (!opts.namespace || o.metadata?.namespace === opts.namespace) &&
      terms(opts.labelSelector).every(([k, v]) => o.metadata?.labels?.[k] === v) &&
      // The one field selector mmoctl uses: `type=Warning` on events.
      terms(opts.fieldSelector).every(([k, v]) => (o as Record<string, unknown>)[k] === v);
    return (this.objects.get(kind) ?? []).filter(match) as Kinds[K][];
  }

  async get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<Kinds[K] | undefined> {
    this.calls.push(`get ${kind}`);
    this.check(`read ${kind} ${name}`);
    if (this.forbidden.has(kind)) throw new KubeError(403, 'Forbidden', `cannot read ${kind} ${name}: forbidden`);
    return (this.objects.get(kind) ?? []).find((o) => o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace)) as Kinds[K] | undefined;
  }

  async create<T extends KubernetesObject>(obj: T): Promise<T> {
    const kind = obj.kind as Kind;
    this.objects.set(kind, [...(this.objects.get(kind) ?? []), obj]);
    return obj;
  }

  async delete(kind: Kind, name: string, namespace?: string): Promise<boolean> {
    const list = this.objects.get(kind) ?? [];
    const keep = list.filter((o) => !(o.metadata?.name === name && o.metadata?.namespace === namespace));
    this.objects.set(kind, keep);
    return keep.length !== list.length;
  }

  async dryRunApply(obj: KubernetesObject): Promise<void> {
    this.dryRuns.push(`${obj.kind}/${obj.metadata?.name}`);
    const why = this.refuse.get(`${obj.kind}/${obj.metadata?.name}`);
    if (why) throw new KubeError(422, 'Invalid', `cannot dry-run ${obj.kind} ${obj.metadata?.name}: ${why}`);
  }

  async dryRunCreate(obj: KubernetesObject): Promise<void> {
    return this.dryRunApply(obj);
  }

  async resource(apiVersion: string, kind: string) {
    this.check(`discover ${apiVersion} ${kind}`);
    return this.resources.get(`${apiVersion}/${kind}`);
  }

  async canI(questions: readonly AccessQuestion[]): Promise<AccessAnswer[]> {
    return questions.map((q) => ({ ...q, allowed: !this.denied.has(`${q.verb} ${q.group}/${q.resource}`) }));
  }

  async logs(namespace: string, pod: string, container: string, opts: { previous?: boolean } = {}): Promise<string> {
    this.check(`read the log of ${namespace}/${pod} ${container}`);
    const text = this.logText.get(`${pod}/${container}${opts.previous ? '/previous' : ''}`);
    if (text === undefined) throw new KubeError(500, 'InternalError', `cannot read the log of ${namespace}/${pod} ${container}: no kubelet answers`);
    return text;
  }

  /** Bodies served through pods/proxy and services/proxy, by `namespace/name:port/path`. */
  readonly proxied = new Map<string, string>();

  async proxyGet(namespace: string, pod: string, port: number, path: string): Promise<string> {
    this.check(`read ${path} of pod ${namespace}/${pod} (pods/proxy)`);
    const body = this.proxied.get(`${namespace}/${pod}:${port}${path}`);
    if (body === undefined) throw new KubeError(503, 'ServiceUnavailable', `cannot read ${path} of pod ${namespace}/${pod} (pods/proxy): no endpoints`);
    return body;
  }

  async serviceProxyGet(namespace: string, service: string, port: number | string, path: string): Promise<string> {
    return this.proxyGet(namespace, service, Number(port), path);
  }
}

export const HELM_BINARY: HelmBinary = { path: '/usr/local/bin/helm', version: 'v3.18.0', major: 3 };

/** A Helm that knows releases, histories and values but renders nothing. */
export class FakeHelm implements Helm {
  readonly binary = HELM_BINARY;
  readonly releases = new Map<string, HelmRelease>();
  readonly histories = new Map<string, HelmRevision[]>();
  /** User-supplied and computed values, by `namespace/release`. */
  readonly valuesOf = new Map<string, { user: Record<string, unknown>; computed: Record<string, unknown> }>();
  /** Commands that fail with helm's message (`status`, `history`, `values`). */
  readonly failing = new Map<string, string>();

  private fail(cmd: string): void {
    const message = this.failing.get(cmd);
    if (message) throw new HelmError(message, [cmd], 1);
  }

  async template(_ref: ReleaseRef, _req: ChartRequest): Promise<string> {
    throw new Error('FakeHelm renders nothing');
  }
  async status(ref: ReleaseRef) {
    this.fail('status');
    return this.releases.get(`${ref.namespace}/${ref.release}`);
  }
  async history(ref: ReleaseRef) {
    this.fail('history');
    return this.histories.get(`${ref.namespace}/${ref.release}`) ?? [];
  }
  async values(ref: ReleaseRef, opts: { all?: boolean } = {}) {
    this.fail('values');
    const v = this.valuesOf.get(`${ref.namespace}/${ref.release}`);
    return structuredClone((opts.all ? v?.computed : v?.user) ?? {});
  }
  async manifest() {
    return '';
  }
  async apply(): Promise<HelmRelease> {
    throw new Error('FakeHelm applies nothing');
  }
  async rollback() {}
  async uninstall() {}
  async test() {
    return { ok: true, output: '' };
  }
  async pull() {}
}

/** A Ready node of the rig's shape. */
export function node(name: string, opts: { cpu?: string; memory?: string; zone?: string; addresses?: Record<string, string>; taints?: V1Taint[]; cordoned?: boolean; ready?: boolean; labels?: Record<string, string> } = {}): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': opts.zone ?? 'zone-a', ...opts.labels } },
    spec: { unschedulable: opts.cordoned, taints: opts.taints },
    status: {
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '16Gi' },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      addresses: Object.entries(opts.addresses ?? { InternalIP: '10.0.0.1', ExternalIP: '203.0.113.1' }).map(([type, address]) => ({ type, address })),
    },
  };
}

/** A running pod on `nodeName` requesting `cpu` and `memory`. */
export function pod(name: string, nodeName: string, cpu: string, memory: string, opts: { namespace?: string; labels?: Record<string, string>; hostPort?: number; protocol?: string } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'other', labels: opts.labels },
    spec: { nodeName, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu, memory } }, ports: opts.hostPort ? [{ containerPort: opts.hostPort, hostPort: opts.hostPort, protocol: opts.protocol ?? 'UDP' }] : undefined }] },
    status: { phase: 'Running' },
  };
}
