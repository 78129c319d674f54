/**
 * `Kube` over @kubernetes/client-node, for the kubeconfigs the HTTPS reader (https.ts) does not speak:
 * legacy auth providers (gcp, azure, oidc) and proxies. The library is loaded only then.
 */
import type * as k8s from '@kubernetes/client-node';
import { FailedError } from '../errors.ts';
import { API_VERSIONS, KubeError, type AccessAnswer, type AccessQuestion, type Kind, type Kinds, type Kube, type KubeIdentity, type ListOptions } from './kube.ts';

/** Which kubeconfig and context; both empty means kubectl's defaults ($KUBECONFIG, ~/.kube/config, current context). */
export interface KubeTarget {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** The client-node `Kube` for the kubeconfig's context. */
export async function connectClientNode(target: KubeTarget): Promise<Kube> {
  const lib = await import('@kubernetes/client-node');
  const kc = new lib.KubeConfig();
  try {
    if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new FailedError(`cannot read the kubeconfig ${target.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config'}: ${(err as Error).message}`, {
      hint: 'Point mmoctl at a cluster with --kubeconfig FILE or KUBECONFIG, and --context NAME.',
      cause: err,
    });
  }
  if (target.context) {
    if (!kc.getContextObject(target.context)) {
      throw new FailedError(`the kubeconfig has no context "${target.context}"; it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}.`, {
        hint: 'List contexts with `kubectl config get-contexts`.',
      });
    }
    kc.setCurrentContext(target.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new FailedError('no Kubernetes cluster is configured: the kubeconfig has no current context (or it names no cluster).', {
      hint: 'Point mmoctl at a cluster with --kubeconfig FILE (or KUBECONFIG) and --context NAME.',
    });
  }
  return new ClientNodeKube(lib, kc, { context: kc.getCurrentContext(), server: cluster.server, user: kc.getCurrentUser()?.name ?? '' });
}

type Lib = typeof k8s;

class ClientNodeKube implements Kube {
  readonly identity: KubeIdentity;
  private readonly lib: Lib;
  private readonly kc: k8s.KubeConfig;
  private readonly objects: k8s.KubernetesObjectApi & { discover(apiVersion: string, kind: string): Promise<k8s.V1APIResource | undefined> };

  constructor(lib: Lib, kc: k8s.KubeConfig, identity: KubeIdentity) {
    this.lib = lib;
    this.kc = kc;
    this.identity = identity;
    class Objects extends lib.KubernetesObjectApi {
      discover(apiVersion: string, kind: string) {
        return this.resource(apiVersion, kind);
      }
    }
    this.objects = kc.makeApiClient(Objects);
  }

  version() {
    return this.call('read the server version', async () => {
      const v = await this.kc.makeApiClient(this.lib.VersionApi).getCode();
      return { gitVersion: v.gitVersion, major: v.major, minor: v.minor };
    });
  }

  list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<Kinds[K][]> {
    return this.call(`list ${kind}s${opts.namespace ? ` in ${opts.namespace}` : ''}`, async () => {
      const items: Kinds[K][] = [];
      let token: string | undefined;
      do {
        const page = await this.objects.list<Kinds[K] & k8s.KubernetesObject>(
          API_VERSIONS[kind], kind, opts.namespace, undefined, undefined, undefined, opts.fieldSelector, opts.labelSelector, 500, token,
        );
        for (const item of page.items) items.push({ ...item, apiVersion: API_VERSIONS[kind], kind });
        token = page.metadata?._continue;
      } while (token);
      return items;
    });
  }

  get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<Kinds[K] | undefined> {
    return this.call(`read ${kind} ${namespace ? `${namespace}/` : ''}${name}`, async () => {
      try {
        return (await this.objects.read({ apiVersion: API_VERSIONS[kind], kind, metadata: { name, namespace } })) as Kinds[K];
      } catch (err) {
        if (err instanceof this.lib.ApiException && err.code === 404) return undefined;
        throw err;
      }
    });
  }

  create<T extends k8s.KubernetesObject>(obj: T): Promise<T> {
    return this.call(`create ${obj.kind} ${obj.metadata?.name}`, () => this.objects.create(obj));
  }

  delete(kind: Kind, name: string, namespace?: string): Promise<boolean> {
    return this.call(`delete ${kind} ${name}`, async () => {
      try {
        await this.objects.delete({ apiVersion: API_VERSIONS[kind], kind, metadata: { name, namespace } }, undefined, undefined, undefined, undefined, 'Background');
        return true;
      } catch (err) {
        if (err instanceof this.lib.ApiException && err.code === 404) return false;
        throw err;
      }
    });
  }

  async dryRunApply(obj: k8s.KubernetesObject): Promise<void> {
    await this.call(`dry-run ${obj.kind} ${obj.metadata?.name}`, () =>
      this.objects.patch(obj, undefined, 'All', 'mmoctl', true, this.lib.PatchStrategy.ServerSideApply),
    );
  }

  async dryRunCreate(obj: k8s.KubernetesObject): Promise<void> {
    await this.call(`dry-run create ${obj.kind} ${obj.metadata?.name}`, () => this.objects.create(obj, undefined, 'All', 'mmoctl'));
  }

  resource(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean } | undefined> {
    return this.call(`discover ${apiVersion} ${kind}`, async () => {
      try {
        const r = await this.objects.discover(apiVersion, kind);
        return r ? { plural: r.name, namespaced: r.namespaced } : undefined;
      } catch (err) {
        if (err instanceof this.lib.ApiException && err.code === 404) return undefined;
        throw err;
      }
    });
  }

  canI(questions: readonly AccessQuestion[]): Promise<AccessAnswer[]> {
    const api = this.kc.makeApiClient(this.lib.AuthorizationV1Api);
    return this.call('review access (SelfSubjectAccessReview)', () =>
      Promise.all(
        questions.map(async (q) => {
          const res = await api.createSelfSubjectAccessReview({
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { verb: q.verb, group: q.group, resource: q.resource.split('/')[0], subresource: q.resource.split('/')[1], namespace: q.namespace } },
            },
          });
          return { ...q, allowed: res.status?.allowed === true, reason: res.status?.reason };
        }),
      ),
    );
  }

  proxyGet(namespace: string, pod: string, port: number, path: string): Promise<string> {
    const api = this.kc.makeApiClient(this.lib.CoreV1Api);
    return this.call(`read ${path} of pod ${namespace}/${pod} (pods/proxy)`, async () => String(await api.connectGetNamespacedPodProxyWithPath({ name: `${pod}:${port}`, namespace, path: path.replace(/^\//, '') })));
  }

  serviceProxyGet(namespace: string, service: string, port: number | string, path: string): Promise<string> {
    const api = this.kc.makeApiClient(this.lib.CoreV1Api);
    return this.call(`read ${path} of service ${namespace}/${service} (services/proxy)`, async () => String(await api.connectGetNamespacedServiceProxyWithPath({ name: `${service}:${port}`, namespace, path: path.replace(/^\//, '') })));
  }

  logs(namespace: string, pod: string, container: string, opts: { tailLines?: number; previous?: boolean } = {}): Promise<string> {
    const api = this.kc.makeApiClient(this.lib.CoreV1Api);
    return this.call(`read the log of ${namespace}/${pod} ${container}`, async () =>
      String(await api.readNamespacedPodLog({ name: pod, namespace, container, tailLines: opts.tailLines, previous: opts.previous })),
    );
  }

  /** Runs one API call, turning client-node's and the network's errors into a KubeError that says what failed. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toKubeError(this.lib, what, this.identity, err);
    }
  }
}

function toKubeError(lib: Lib, what: string, id: KubeIdentity, err: unknown): KubeError {
  if (err instanceof KubeError) return err;
  if (err instanceof lib.ApiException) {
    const body = parseBody(err.body);
    const reason = body?.reason ?? (err.code === 401 ? 'Unauthorized' : err.code === 403 ? 'Forbidden' : `HTTP ${err.code}`);
    return new KubeError(err.code, reason, `cannot ${what}: ${body?.message ?? reason}`, err);
  }
  const code = networkCode(err);
  if (code) return new KubeError(0, code, `cannot ${what}: the API server ${id.server} (context ${id.context}) is not reachable (${code})`, err);
  return new KubeError(0, 'Error', `cannot ${what}: ${(err as Error)?.message ?? String(err)}`, err);
}

function parseBody(body: unknown): { reason?: string; message?: string } | undefined {
  if (body && typeof body === 'object') return body as { reason?: string; message?: string };
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { reason?: string; message?: string };
    } catch {
      return body ? { message: body } : undefined;
    }
  }
  return undefined;
}

/** ECONNREFUSED, ENOTFOUND, ETIMEDOUT, a certificate error… anywhere in the cause chain. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 6; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && /^(E[A-Z]+|UND_ERR_\w+|[A-Z_]*CERT[A-Z_]*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/.test(c)) return c;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
