/**
 * The `Kube` interface: every read and the few writes mmoctl makes to a cluster, in the shapes of the
 * Kubernetes API (client-node's model types, imported as types only). Services take a `Kube` in their
 * constructor; unit tests pass a hand-written fake, integration tests the real client against the rig.
 */
import type { Complete } from '../errors.ts';
import type {
  CoreV1Event,
  KubernetesObject,
  V1ConfigMap,
  V1CronJob,
  V1Deployment,
  V1EndpointSlice,
  V1IngressClass,
  V1Job,
  V1Namespace,
  V1Node,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
  V1Secret,
  V1Service,
  V1StatefulSet,
  V1StorageClass,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';

/** The kinds mmoctl lists, with their API versions and types. */
export interface Kinds {
  Pod: V1Pod;
  Service: V1Service;
  EndpointSlice: V1EndpointSlice;
  Deployment: V1Deployment;
  ReplicaSet: V1ReplicaSet;
  StatefulSet: V1StatefulSet;
  Job: V1Job;
  CronJob: V1CronJob;
  HorizontalPodAutoscaler: V2HorizontalPodAutoscaler;
  PodDisruptionBudget: V1PodDisruptionBudget;
  PersistentVolumeClaim: V1PersistentVolumeClaim;
  Event: CoreV1Event;
  Secret: V1Secret;
  ConfigMap: V1ConfigMap;
  Node: V1Node;
  Namespace: V1Namespace;
  StorageClass: V1StorageClass;
  IngressClass: V1IngressClass;
}
export type Kind = keyof Kinds;

export const API_VERSIONS: Record<Kind, string> = {
  Pod: 'v1',
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
  PersistentVolumeClaim: 'v1',
  Event: 'v1',
  Secret: 'v1',
  ConfigMap: 'v1',
  Node: 'v1',
  Namespace: 'v1',
  StorageClass: 'storage.k8s.io/v1',
  IngressClass: 'networking.k8s.io/v1',
};

export interface ListOptions {
  /** Omit for cluster-scoped kinds, or to list a namespaced kind in every namespace. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** One question for SelfSubjectAccessReview: may the current user do `verb` on this resource? */
export interface AccessQuestion {
  readonly verb: string;
  /** API group, '' for the core group. */
  readonly group: string;
  /** Plural resource name, with a subresource as `pods/log`. */
  readonly resource: string;
  /** Omit for cluster-scoped resources. */
  readonly namespace?: string;
}

export interface AccessAnswer extends AccessQuestion {
  readonly allowed: boolean;
  readonly reason?: string;
}

/** Which cluster and who, as the kubeconfig says. */
export interface KubeIdentity {
  readonly context: string;
  readonly server: string;
  readonly user: string;
}

export interface Kube {
  readonly identity: KubeIdentity;
  /** The API server's version (`/version`). */
  version(): Promise<{ gitVersion: string; major: string; minor: string }>;
  /** Lists objects of one kind. */
  list<K extends Kind>(kind: K, opts?: ListOptions): Promise<Kinds[K][]>;
  /** One object, or undefined when it does not exist. */
  get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<Kinds[K] | undefined>;
  /** Creates an object. */
  create<T extends KubernetesObject>(obj: T): Promise<T>;
  /** Deletes an object; resolves false when it was already gone. */
  delete(kind: Kind, name: string, namespace?: string): Promise<boolean>;
  /**
   * Server-side apply with `dryRun=All`: the API server runs defaulting, validation and admission
   * (Pod Security, quotas, webhooks, immutable fields) and changes nothing. Rejects with a KubeError.
   */
  dryRunApply(obj: KubernetesObject): Promise<void>;
  /** Server-side dry-run create (admission of objects that do not exist yet, such as pods). */
  dryRunCreate(obj: KubernetesObject): Promise<void>;
  /** How the API server serves `kind` in `apiVersion` (discovery); undefined when it does not. */
  resource(apiVersion: string, kind: string): Promise<{ readonly plural: string; readonly namespaced: boolean } | undefined>;
  /** SelfSubjectAccessReview for every question, answered in the same order. */
  canI(questions: readonly AccessQuestion[]): Promise<AccessAnswer[]>;
  /**
   * GET through the API server's proxy to a pod's port (`pods/proxy`), as `kubectl get --raw` would:
   * how mmoctl reads a game server's /metrics without a route to the pod network.
   */
  proxyGet(namespace: string, pod: string, port: number, path: string): Promise<string>;
  /** GET through the API server's proxy to a Service's port (`services/proxy`): an in-cluster Prometheus. */
  serviceProxyGet(namespace: string, service: string, port: number | string, path: string): Promise<string>;
  /** The last lines of one container's log. */
  logs(namespace: string, pod: string, container: string, opts?: { tailLines?: number; previous?: boolean }): Promise<string>;
}

/** A refusal or failure the API server (or the way to it) reported. */
export class KubeError extends Error implements Complete {
  readonly complete = true;
  /** HTTP status; 0 when the API server was not reached. */
  readonly status: number;
  /** Kubernetes reason (`Forbidden`, `NotFound`, `Invalid`…) or the network error code. */
  readonly reason: string;

  constructor(status: number, reason: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'KubeError';
    this.status = status;
    this.reason = reason;
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

/** What the user should do about a KubeError, by its kind. */
export function kubeHint(err: KubeError, id?: KubeIdentity): string {
  const ctx = id ? ` (context ${id.context}, ${id.server})` : '';
  if (err.unreachable) {
    return `Is the cluster running, and is this the right one${ctx}? Choose another with --context or --kubeconfig; \`kubectl cluster-info\` tries the same connection.`;
  }
  if (err.status === 401) {
    return `The cluster refused the credentials${ctx}: they may have expired. Log in again (for example \`aws eks update-kubeconfig\`, \`gcloud container clusters get-credentials\`, \`az aks get-credentials\`).`;
  }
  if (err.status === 403) {
    return 'Your user lacks a permission for this. Use a context that has it, or ask an admin; `mmoctl preflight` lists every permission the release needs.';
  }
  return 'Retry; if it keeps failing, `mmoctl support-bundle` collects what an admin needs to look into it.';
}
