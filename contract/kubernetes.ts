/**
 * Kubernetes' syntax for the names, labels and annotations the chart passes on to the API server
 * (apimachinery's validation), so the chart refuses a value before the API server does. Read by
 * values.schema.json (scripts/gen/values-schema.ts) and, where helm's schema check cannot name the
 * key (the keys of a map), by the chart's templates through _contract.tpl.
 * Same pattern dialect as contract/formats.ts.
 */

const dnsLabel = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

export const KUBERNETES_SYNTAX = {
  /** RFC 1123 label (at most 63 characters): namespaces, container, port and volume names. */
  dnsLabel: `^${dnsLabel}$`,
  /** RFC 1123 subdomain (at most 253): Secrets, ConfigMaps, PVCs, StorageClasses, PriorityClasses. */
  dnsSubdomain: `^${dnsLabel}(\\.${dnsLabel})*$`,
  /** Label and annotation keys: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
  qualifiedName: `^(${dnsLabel}(\\.${dnsLabel})*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`,
  /** Label values: empty, or at most 63 characters, alphanumeric at both ends. */
  labelValue: '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$',
} as const;

/**
 * Kinds of other projects the chart's operations switches create, by switch: the chart refuses a
 * switch where the cluster lacks its kinds, `mmoctl preflight` checks their CRDs, offline renders say
 * the cluster serves them, and the test rig registers them. Each entry is `group/version/Kind`.
 */
export const OPERATIONS_KINDS = {
  keda: { project: 'KEDA', key: 'gameServer.autoscaling.keda.enabled', kinds: ['keda.sh/v1alpha1/ScaledObject', 'keda.sh/v1alpha1/TriggerAuthentication'] },
  vpa: { project: 'the Vertical Pod Autoscaler', key: 'vpa.enabled', kinds: ['autoscaling.k8s.io/v1/VerticalPodAutoscaler'] },
  istio: { project: 'Istio', key: 'mesh.istio.enabled', kinds: ['security.istio.io/v1/PeerAuthentication', 'networking.istio.io/v1/DestinationRule', 'networking.istio.io/v1/VirtualService'] },
} as const;

/** Every kind of OPERATIONS_KINDS, as `--api-versions` takes them. */
export const OPERATIONS_API_VERSIONS: readonly string[] = Object.values(OPERATIONS_KINDS).flatMap((s) => s.kinds);

/**
 * Velero's Schedule (`backup.velero.enabled`): checked by preflight like OPERATIONS_KINDS, but its
 * schema on the test rig is Velero's own vendored CRD (test/support/pinned-crds.ts), not a model package's.
 */
export const BACKUP_KINDS = {
  velero: { project: 'Velero', key: 'backup.velero.enabled', kinds: ['velero.io/v1/Schedule'] },
} as const;
