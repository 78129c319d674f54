/**
 * What the rig creates inside its cluster once the API server is ready: three fake nodes (zones
 * a/b/c) that kwok keeps Ready, the default StorageClass, and the restricted tenant (a namespace, a
 * ServiceAccount and a Role over that namespace only) behind the restricted kubeconfig.
 */
import * as k8s from '@kubernetes/client-node';

/** The namespace the restricted kubeconfig may use, and nothing outside it. */
export const RESTRICTED_NAMESPACE = 'rig-tenant';
/** The ServiceAccount behind the restricted kubeconfig. */
export const RESTRICTED_USER = 'tenant';
/** The default StorageClass; its provisioner is a kwok Stage. */
export const STORAGE_CLASS = 'standard';

/** The fake nodes: name, zone, and the addresses their status reports (documentation ranges, never routed). */
export const RIG_NODES = [
  { name: 'rig-node-a', zone: 'zone-a', internalIP: '10.0.0.11', externalIP: '203.0.113.11' },
  { name: 'rig-node-b', zone: 'zone-b', internalIP: '10.0.0.12', externalIP: '203.0.113.12' },
  { name: 'rig-node-c', zone: 'zone-c', internalIP: '10.0.0.13', externalIP: '203.0.113.13' },
] as const;
/** Allocatable (= capacity) of every fake node. */
export const NODE_ALLOCATABLE = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' } as const;

async function createIgnoringExisting(api: k8s.KubernetesObjectApi, obj: k8s.KubernetesObject): Promise<void> {
  try {
    await api.create(obj);
  } catch (err) {
    if (!(err instanceof k8s.ApiException && err.code === 409)) throw err;
  }
}

/** A node the rig creates: name, zone and the addresses its status reports. */
export interface RigNode {
  readonly name: string;
  readonly zone: string;
  readonly internalIP: string;
  readonly externalIP: string;
}

/** The user of the live rig's Prometheus (client certificate), allowed to discover targets. */
export const PROMETHEUS_USER = 'mmoctl-rig-prometheus';

/**
 * Creates the fake nodes, the default StorageClass and the restricted tenant (namespace, SA, Role).
 * A live rig passes its own node addresses (they live on its bridge) and the kubelet API port the
 * API server reaches for logs, and gets its Prometheus' read access.
 */
export async function bootstrap(kc: k8s.KubeConfig, live?: { nodes: readonly RigNode[]; kubeletPort: number }): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const kubeletVersion = (await kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion;
  const nodes: k8s.V1Node[] = (live?.nodes ?? RIG_NODES).map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'rig.standard',
        'topology.kubernetes.io/region': 'rig',
        'topology.kubernetes.io/zone': n.zone,
        type: 'kwok',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {},
    status: {
      allocatable: { ...NODE_ALLOCATABLE },
      capacity: { ...NODE_ALLOCATABLE },
      addresses: [
        { type: 'InternalIP', address: n.internalIP },
        { type: 'ExternalIP', address: n.externalIP },
        { type: 'Hostname', address: n.name },
      ],
      ...(live ? { daemonEndpoints: { kubeletEndpoint: { Port: live.kubeletPort } } } : {}),
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: live ? 'mmoctl live rig (kwok; pods labelled mmo.dev/rig-run=process run as processes)' : 'mmoctl rig (kwok, no containers run)',
        kernelVersion: 'kwok',
        containerRuntimeVersion: 'kwok://fake',
        kubeletVersion: '',
        kubeProxyVersion: '',
        bootID: '',
        machineID: n.name,
        systemUUID: n.name,
      },
    },
  }));
  for (const node of nodes) {
    node.status!.nodeInfo!.kubeletVersion = kubeletVersion;
    await createIgnoringExisting(api, node);
  }
  const objects: k8s.KubernetesObject[] = [
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rig.mmo.dev/volume',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
      allowVolumeExpansion: true,
    } as k8s.V1StorageClass,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: RESTRICTED_NAMESPACE } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    } as k8s.V1Role,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: RESTRICTED_USER },
      subjects: [{ kind: 'ServiceAccount', name: RESTRICTED_USER, namespace: RESTRICTED_NAMESPACE }],
    } as k8s.V1RoleBinding,
  ];
  if (live) {
    objects.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: PROMETHEUS_USER },
        rules: [
          { apiGroups: [''], resources: ['nodes', 'services', 'endpoints', 'pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['monitoring.coreos.com'], resources: ['servicemonitors'], verbs: ['get', 'list', 'watch'] },
        ],
      } as k8s.V1ClusterRole,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: PROMETHEUS_USER },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROMETHEUS_USER },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: PROMETHEUS_USER }],
      } as k8s.V1ClusterRoleBinding,
    );
  }
  for (const obj of objects) await createIgnoringExisting(api, obj);
}
