/**
 * `Kube` over plain HTTPS (node:https, one keep-alive agent). The API is a handful of REST calls;
 * speaking them directly costs nothing at start-up, where loading @kubernetes/client-node costs
 * 0.6 s on this machine — more than a whole `helm status`. client-node remains for the kubeconfigs
 * this reader does not speak (legacy auth providers, proxies): see connectKube().
 */
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Connection } from './kubeconfig.ts';
import { API_VERSIONS, KubeError, type AccessAnswer, type AccessQuestion, type Kind, type Kinds, type Kube, type KubeIdentity, type ListOptions } from './kube.ts';

/** Plural names and scope of the kinds mmoctl lists (others are found by discovery). */
const RESOURCES: Record<Kind, { plural: string; namespaced: boolean }> = {
  Pod: { plural: 'pods', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  EndpointSlice: { plural: 'endpointslices', namespaced: true },
  Deployment: { plural: 'deployments', namespaced: true },
  ReplicaSet: { plural: 'replicasets', namespaced: true },
  StatefulSet: { plural: 'statefulsets', namespaced: true },
  Job: { plural: 'jobs', namespaced: true },
  CronJob: { plural: 'cronjobs', namespaced: true },
  HorizontalPodAutoscaler: { plural: 'horizontalpodautoscalers', namespaced: true },
  PodDisruptionBudget: { plural: 'poddisruptionbudgets', namespaced: true },
  PersistentVolumeClaim: { plural: 'persistentvolumeclaims', namespaced: true },
  Event: { plural: 'events', namespaced: true },
  Secret: { plural: 'secrets', namespaced: true },
  ConfigMap: { plural: 'configmaps', namespaced: true },
  Node: { plural: 'nodes', namespaced: false },
  Namespace: { plural: 'namespaces', namespaced: false },
  StorageClass: { plural: 'storageclasses', namespaced: false },
  IngressClass: { plural: 'ingressclasses', namespaced: false },
};

const REQUEST_TIMEOUT_MS = 30_000;

interface Response {
  status: number;
  body: string;
}

export class HttpsKube implements Kube {
  readonly identity: KubeIdentity;
  private readonly conn: Connection;
  private readonly agent: Agent;
  private readonly discovery = new Map<string, Promise<{ kind: string; name: string; namespaced: boolean }[] | undefined>>();

  constructor(conn: Connection) {
    this.conn = conn;
    this.identity = { context: conn.context, server: conn.server, user: conn.user };
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecure, servername: conn.servername });
  }

  async version() {
    const v = await this.json<{ gitVersion: string; major: string; minor: string }>('read the server version', 'GET', '/version');
    return { gitVersion: v.gitVersion, major: v.major, minor: v.minor };
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<Kinds[K][]> {
    const items: Kinds[K][] = [];
    let token: string | undefined;
    do {
      const query = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: '500', continue: token };
      const page = await this.json<{ items: Kinds[K][]; metadata?: { continue?: string } }>(`list ${kind}s${opts.namespace ? ` in ${opts.namespace}` : ''}`, 'GET', this.collection(kind, opts.namespace), { query });
      for (const item of page.items) items.push({ ...item, apiVersion: API_VERSIONS[kind], kind } as Kinds[K]);
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  }

  async get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<Kinds[K] | undefined> {
    const what = `read ${kind} ${namespace ? `${namespace}/` : ''}${name}`;
    const res = await this.call(what, 'GET', `${this.collection(kind, namespace)}/${encodeURIComponent(name)}`);
    if (res.status === 404) return undefined;
    return { ...(this.parse(what, res) as Kinds[K]), apiVersion: API_VERSIONS[kind], kind } as Kinds[K];
  }

  async create<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.json<T>(`create ${obj.kind} ${obj.metadata?.name}`, 'POST', await this.objectCollection(obj), { body: JSON.stringify(obj) });
  }

  async delete(kind: Kind, name: string, namespace?: string): Promise<boolean> {
    const what = `delete ${kind} ${name}`;
    const res = await this.call(what, 'DELETE', `${this.collection(kind, namespace)}/${encodeURIComponent(name)}`, { body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }) });
    if (res.status === 404) return false;
    this.parse(what, res);
    return true;
  }

  async dryRunApply(obj: KubernetesObject): Promise<void> {
    const path = `${await this.objectCollection(obj)}/${encodeURIComponent(obj.metadata?.name ?? '')}`;
    await this.json(`dry-run ${obj.kind} ${obj.metadata?.name}`, 'PATCH', path, {
      query: { dryRun: 'All', fieldManager: 'mmoctl', force: 'true' },
      body: JSON.stringify(obj),
      contentType: 'application/apply-patch+yaml',
    });
  }

  async dryRunCreate(obj: KubernetesObject): Promise<void> {
    await this.json(`dry-run create ${obj.kind} ${obj.metadata?.name}`, 'POST', await this.objectCollection(obj), { query: { dryRun: 'All', fieldManager: 'mmoctl' }, body: JSON.stringify(obj) });
  }

  async resource(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean } | undefined> {
    const list = await this.discover(apiVersion);
    const r = list?.find((x) => x.kind === kind && !x.name.includes('/'));
    return r ? { plural: r.name, namespaced: r.namespaced } : undefined;
  }

  canI(questions: readonly AccessQuestion[]): Promise<AccessAnswer[]> {
    return Promise.all(
      questions.map(async (q) => {
        const [resource, subresource] = q.resource.split('/');
        const res = await this.json<{ status?: { allowed?: boolean; reason?: string } }>('review access (SelfSubjectAccessReview)', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: q.verb, group: q.group, resource, subresource, namespace: q.namespace } } }),
        });
        return { ...q, allowed: res.status?.allowed === true, reason: res.status?.reason };
      }),
    );
  }

  async logs(namespace: string, pod: string, container: string, opts: { tailLines?: number; previous?: boolean } = {}): Promise<string> {
    const query = new URLSearchParams({ container, ...(opts.tailLines ? { tailLines: String(opts.tailLines) } : {}), ...(opts.previous ? { previous: 'true' } : {}) });
    return this.raw(`read the log of ${namespace}/${pod} ${container}`, `/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(pod)}/log?${query}`);
  }

  async proxyGet(namespace: string, pod: string, port: number, path: string): Promise<string> {
    return this.raw(`read ${path} of pod ${namespace}/${pod} (pods/proxy)`, `/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(pod)}:${port}/proxy${path}`);
  }

  async serviceProxyGet(namespace: string, service: string, port: number | string, path: string): Promise<string> {
    return this.raw(`read ${path} of service ${namespace}/${service} (services/proxy)`, `/api/v1/namespaces/${namespace}/services/${encodeURIComponent(service)}:${port}/proxy${path}`);
  }

  /** A GET whose answer is text (logs, metrics, a proxied body). */
  private async raw(what: string, pathAndQuery: string): Promise<string> {
    const [path, query] = pathAndQuery.split('?');
    const res = await this.call(what, 'GET', path!, { query: Object.fromEntries(new URLSearchParams(query ?? '')) });
    if (res.status >= 400) this.parse(what, res);
    return res.body;
  }

  /** The URL path of a kind's collection. */
  private collection(kind: Kind, namespace?: string): string {
    const r = RESOURCES[kind];
    return collectionPath(API_VERSIONS[kind], r.plural, r.namespaced ? namespace : undefined);
  }

  /** The collection of any object, its kind found by discovery. */
  private async objectCollection(obj: KubernetesObject): Promise<string> {
    const known = RESOURCES[obj.kind as Kind];
    const r = known && API_VERSIONS[obj.kind as Kind] === obj.apiVersion ? known : await this.resource(obj.apiVersion ?? '', obj.kind ?? '');
    if (!r) throw new KubeError(404, 'NotFound', `cannot use ${obj.kind} ${obj.metadata?.name}: the API server does not serve ${obj.apiVersion} ${obj.kind}`);
    return collectionPath(obj.apiVersion ?? '', r.plural, r.namespaced ? obj.metadata?.namespace : undefined);
  }

  private discover(apiVersion: string) {
    let p = this.discovery.get(apiVersion);
    if (!p) {
      p = (async () => {
        const res = await this.call(`discover ${apiVersion}`, 'GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
        if (res.status === 404) return undefined;
        return (this.parse(`discover ${apiVersion}`, res) as { resources: { kind: string; name: string; namespaced: boolean }[] }).resources;
      })();
      p.catch(() => this.discovery.delete(apiVersion));
      this.discovery.set(apiVersion, p);
    }
    return p;
  }

  private async json<T>(what: string, method: string, path: string, opts: { query?: Record<string, string | undefined>; body?: string; contentType?: string } = {}): Promise<T> {
    return this.parse(what, await this.call(what, method, path, opts)) as T;
  }

  /** The parsed body of a 2xx answer; any other is a KubeError with the API server's reason and message. */
  private parse(what: string, res: Response): unknown {
    let body: { kind?: string; reason?: string; message?: string } | undefined;
    try {
      body = res.body ? (JSON.parse(res.body) as typeof body) : undefined;
    } catch {
      body = undefined;
    }
    if (res.status >= 200 && res.status < 300) return body;
    const reason = body?.reason || (res.status === 401 ? 'Unauthorized' : res.status === 403 ? 'Forbidden' : `HTTP ${res.status}`);
    throw new KubeError(res.status, reason, `cannot ${what}: ${body?.message || res.body.trim().slice(0, 300) || reason}`);
  }

  private async call(what: string, method: string, path: string, opts: { query?: Record<string, string | undefined>; body?: string; contentType?: string } = {}): Promise<Response> {
    const url = new URL(this.conn.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'mmoctl' };
    if (opts.body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    }
    const token = this.conn.token ? await this.conn.token() : undefined;
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (this.conn.basic) headers.Authorization = `Basic ${Buffer.from(`${this.conn.basic.username}:${this.conn.basic.password}`).toString('base64')}`;
    const options: RequestOptions = { method, headers, agent: url.protocol === 'https:' ? this.agent : undefined, timeout: REQUEST_TIMEOUT_MS };
    return new Promise<Response>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(new KubeError(0, err.code ?? 'Error', `cannot ${what}: the API server ${this.identity.server} (context ${this.identity.context}) is not reachable (${err.code ?? err.message})`, err)),
      );
      if (opts.body !== undefined) req.write(opts.body);
      req.end();
    });
  }
}

function collectionPath(apiVersion: string, plural: string, namespace: string | undefined): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
}
