/**
 * Writes charts/mmo/values.schema.json, the JSON schema (draft-07) helm checks every value against
 * before anything renders. Written here rather than by hand because most of it repeats (resources,
 * images, names, pod placement) and part of it is the contract's: the server settings take their
 * types, ranges and formats from contract/env.ts and contract/formats.ts, so the chart refuses what
 * the server would refuse. The chart suite fails when the file is stale; `npm run gen` rewrites it.
 *
 * Rules of the schema, so `null` anywhere is refused by helm's own check and never reaches a template:
 * - every object the chart defines lists all its keys as required, except keys whose schema allows
 *   null (a documented "null means derived") and keys wrapped in `optional`;
 * - no type admits null unless null is a documented value.
 * Patterns use the syntax JavaScript and Go's RE2 read alike (helm 3 and 4 validate with RE2).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV, type EnvKey, type EnvSpec } from '../../contract/env.ts';
import { FORMATS } from '../../contract/formats.ts';
import { KUBERNETES_SYNTAX } from '../../contract/kubernetes.ts';
import { CHECKABLE_ERRORS } from '../../client/loadtest/options.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

export const VALUES_SCHEMA_PATH = join(PROJECT_ROOT, 'charts', 'mmo', 'values.schema.json');

export type Schema = { [key: string]: unknown };

const optionalSchemas = new WeakSet<Schema>();

/** A key of `obj` that may be left out (a Kubernetes field the chart passes through). */
export function optional<S extends Schema>(s: S): S {
  optionalSchemas.add(s);
  return s;
}

const allowsNull = (s: Schema) => (Array.isArray(s.type) && s.type.includes('null')) || (Array.isArray(s.anyOf) && s.anyOf.some((x) => (x as Schema).type === 'null'));

/** An object of the chart's own: these keys only, each required unless nullable or optional. */
function obj(properties: Record<string, Schema>, extra: Schema = {}): Schema {
  const required = Object.entries(properties)
    .filter(([, s]) => !optionalSchemas.has(s) && !allowsNull(s))
    .map(([k]) => k);
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}), ...extra };
}

/** A Kubernetes object passed through: these keys typed, `required` listed, others left to the API server. */
function k8sObj(properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema {
  return { type: 'object', properties, ...(required.length ? { required } : {}), ...extra };
}

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const bool = (): Schema => ({ type: 'boolean' });
const int = (minimum: number, maximum?: number): Schema => ({ type: 'integer', minimum, ...(maximum === undefined ? {} : { maximum }) });
const num = (extra: Schema): Schema => ({ type: 'number', ...extra });
const list = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const nullable = (s: Schema): Schema => ({ ...s, type: [s.type, 'null'] });
const ref = (name: keyof typeof definitions): Schema => ({ $ref: `#/definitions/${name}` });
const pattern = (p: string, extra: Schema = {}): Schema => str({ pattern: p, ...extra });
/** The same pattern, or the empty string ("not set"). */
const orEmpty = (s: Schema): Schema => ({ ...s, pattern: `^$|${s.pattern as string}` });

// ---- names and text formats ------------------------------------------------------------------

const { dnsLabel: DNS_LABEL, dnsSubdomain: DNS_SUBDOMAIN, qualifiedName: QUALIFIED_NAME, labelValue: LABEL_VALUE } = KUBERNETES_SYNTAX;
const dnsLabelRe = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
/** Host names handed to an Ingress and, through it, to players: a DNS name whose last label starts with a letter (so never an IP address). */
const ingressHost = `^(\\*\\.)?(${dnsLabelRe}\\.)*[a-z]([-a-z0-9]*[a-z0-9])?$`;

const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const ipv4 = `(${octet}\\.){3}${octet}`;
const h = '[0-9a-fA-F]{1,4}';
const ipv6 = [
  `(${h}:){7}${h}`,
  `(${h}:){1,7}:`,
  `(${h}:){1,6}:${h}`,
  `(${h}:){1,5}(:${h}){1,2}`,
  `(${h}:){1,4}(:${h}){1,3}`,
  `(${h}:){1,3}(:${h}){1,4}`,
  `(${h}:){1,2}(:${h}){1,5}`,
  `${h}:(:${h}){1,6}`,
  `:((:${h}){1,7}|:)`,
].join('|');
/** An IPv4 CIDR (prefix 0–32) or an IPv6 CIDR (prefix 0–128), no leading zeros in IPv4 octets. */
export const CIDR = `^(${ipv4}/(3[0-2]|[12]?[0-9])|(${ipv6})/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))$`;
/**
 * Host of an external service, as a studio's network names it: a host name (underscores too, as
 * private zones allow), an IPv4 or an IPv6 address. The game servers connect by the URL in its Secret.
 */
const serviceLabel = '[a-zA-Z0-9_]([-a-zA-Z0-9_]*[a-zA-Z0-9_])?';
const serviceHost = `^(${serviceLabel}(\\.${serviceLabel})*|${ipv4}|${ipv6})$`;

const pathComponent = '[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*';
/** An image reference without tag or digest: optional registry (host[:port]) and a lowercase path. */
export const IMAGE_REPOSITORY = `^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*(:[0-9]+)?/)?${pathComponent}(/${pathComponent})*$`;
const imageTag = '^[\\w][\\w.-]{0,127}$';
/** An environment variable name as every supported Kubernetes takes it (a C identifier, '-' and '.' too). */
const ENV_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';
const imageDigest = '^sha256:[a-f0-9]{64}$';

/** A Prometheus duration ("30s", "1m30s"); zero is refused by the chart's own check. */
export const PROMETHEUS_DURATION = '^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$';

const dnsLabel = (maxLength = 63) => pattern(DNS_LABEL, { maxLength });
const dnsSubdomain = () => pattern(DNS_SUBDOMAIN, { maxLength: 253 });
/** A Secret name that may be empty ("none: the chart makes its own" or "not used"). */
const secretName = () => orEmpty(dnsSubdomain());
const secretKey = () => pattern('^[-._a-zA-Z0-9]+$', { maxLength: 253 });
const cidr = () => pattern(CIDR);
const cidrs = (minItems = 1) => list(cidr(), { minItems });
const port = () => int(1, 65535);

/** The schema of a server setting, from its contract kind (and any chart-specific narrowing). */
function fromEnv(key: EnvKey, narrow: Schema = {}): Schema {
  const spec: EnvSpec = ENV[key];
  if (!(spec.chartValues ?? []).length) throw new Error(`${spec.name} names no chart value`);
  const kind = spec.kind;
  const base: Schema = (() => {
    switch (kind.type) {
      case 'int':
        return int(kind.min, kind.max);
      case 'number':
        return num({ minimum: kind.min, maximum: kind.max });
      case 'enum':
        return str({ enum: [...kind.values] });
      case 'bool':
        return bool();
      case 'string':
      case 'url':
        return kind.format ? pattern(FORMATS[kind.format].pattern) : str();
    }
  })();
  for (const bound of ['minimum', 'maximum'] as const) {
    const n = narrow[bound] as number | undefined;
    if (n === undefined) continue;
    const b = base[bound] as number;
    if (bound === 'minimum' ? n < b : n > b) throw new Error(`${spec.name}: ${bound} ${n} is outside the contract's range`);
  }
  return { ...base, ...narrow };
}

// ---- shared structures ------------------------------------------------------------------------

const quantity = (p: string, numberType: 'number' | 'integer'): Schema => ({ type: ['string', numberType], pattern: p, minimum: 0 });
const cpu = () => quantity('^[0-9]+(\\.[0-9]+)?m?$', 'number');
const memory = () => quantity('^[0-9]+(\\.[0-9]+)?(k|M|G|T|Ki|Mi|Gi|Ti)?$', 'integer');
/** A size above zero ("8Gi"): volumes and emptyDir limits. */
const size = () => pattern('^([1-9][0-9]*(\\.[0-9]+)?|0\\.[0-9]*[1-9][0-9]*)(Ki|Mi|Gi|Ti|k|M|G|T)$');

const definitions = {
  resources: obj({ requests: obj({ cpu: cpu(), memory: memory() }), limits: obj({ cpu: cpu(), memory: memory() }) }),
  image: obj({ repository: pattern(IMAGE_REPOSITORY), tag: pattern(imageTag), digest: orEmpty(pattern(imageDigest)), pullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }) }),
  // Keys are checked by the chart (mmo.validateKeys): helm 4 reports a bad property name at the
  // document's root, naming no key.
  labels: { type: 'object', additionalProperties: pattern(LABEL_VALUE) },
  annotations: { type: 'object', additionalProperties: str() },
  toleration: k8sObj(
    {
      key: optional(pattern(`^$|${QUALIFIED_NAME.slice(1)}`)),
      operator: optional(str({ enum: ['Exists', 'Equal'] })),
      value: optional(pattern(LABEL_VALUE)),
      effect: optional(str({ enum: ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'] })),
      tolerationSeconds: optional(int(0)),
    },
    [],
    {
      additionalProperties: false,
      allOf: [
        // The API server's rules: "Exists" takes no value, an empty key needs "Exists", and only
        // NoExecute tolerations may limit how long they tolerate.
        { if: { properties: { operator: { const: 'Exists' } }, required: ['operator'] }, then: { properties: { value: { const: '' } } } },
        { if: { anyOf: [{ not: { required: ['key'] } }, { properties: { key: { const: '' } } }] }, then: { properties: { operator: { const: 'Exists' } }, required: ['operator'] } },
        { if: { required: ['tolerationSeconds'] }, then: { properties: { effect: { const: 'NoExecute' } }, required: ['effect'] } },
      ],
    },
  ),
  affinity: k8sObj({ nodeAffinity: optional({ type: 'object' }), podAffinity: optional({ type: 'object' }), podAntiAffinity: optional({ type: 'object' }) }, [], { additionalProperties: false }),
  topologySpreadConstraint: k8sObj(
    {
      maxSkew: int(1),
      topologyKey: pattern(QUALIFIED_NAME),
      whenUnsatisfiable: str({ enum: ['DoNotSchedule', 'ScheduleAnyway'] }),
      labelSelector: optional({ type: 'object' }),
      minDomains: optional(int(1)),
      nodeAffinityPolicy: optional(str({ enum: ['Honor', 'Ignore'] })),
      nodeTaintsPolicy: optional(str({ enum: ['Honor', 'Ignore'] })),
      matchLabelKeys: optional(list(str())),
    },
    ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
    // minDomains works with DoNotSchedule only (the API server's rule).
    { additionalProperties: false, if: { required: ['minDomains'] }, then: { properties: { whenUnsatisfiable: { const: 'DoNotSchedule' } } } },
  ),
  envVar: k8sObj(
    {
      name: pattern(ENV_NAME),
      value: optional(str()),
      // Exactly one source: secretKeyRef, configMapKeyRef, fieldRef or resourceFieldRef.
      valueFrom: optional({ type: 'object', minProperties: 1, maxProperties: 1 }),
    },
    ['name'],
    { additionalProperties: false, not: { required: ['value', 'valueFrom'] } },
  ),
  envFromSource: k8sObj(
    { prefix: optional(pattern(ENV_NAME)), configMapRef: optional(obj({ name: dnsSubdomain(), optional: optional(bool()) })), secretRef: optional(obj({ name: dnsSubdomain(), optional: optional(bool()) })) },
    [],
    { additionalProperties: false, oneOf: [{ required: ['configMapRef'] }, { required: ['secretRef'] }] },
  ),
  // A name and exactly one volume source (emptyDir, configMap, secret, persistentVolumeClaim, …).
  volume: k8sObj({ name: pattern(DNS_LABEL, { maxLength: 63 }) }, ['name'], { minProperties: 2, maxProperties: 2 }),
  volumeMount: k8sObj(
    {
      name: pattern(DNS_LABEL, { maxLength: 63 }),
      mountPath: pattern('^/[^:]*$'),
      readOnly: optional(bool()),
      subPath: optional(pattern('^[^/].*$|^$')),
      subPathExpr: optional(str()),
      mountPropagation: optional(str({ enum: ['None', 'HostToContainer', 'Bidirectional'] })),
      recursiveReadOnly: optional(str({ enum: ['Disabled', 'IfPossible', 'Enabled'] })),
    },
    ['name', 'mountPath'],
    { additionalProperties: false },
  ),
  // Other container fields go to the API server as given; what the chart needs from every container
  // it runs is a name, an image and resources (requests and limits).
  container: k8sObj(
    {
      name: pattern(DNS_LABEL, { maxLength: 63 }),
      image: str({ minLength: 1 }),
      resources: { $ref: '#/definitions/resources' },
      env: optional(list({ $ref: '#/definitions/envVar' })),
      envFrom: optional(list({ $ref: '#/definitions/envFromSource' })),
      volumeMounts: optional(list({ $ref: '#/definitions/volumeMount' })),
      ports: optional(list(k8sObj({ name: optional(pattern('^[a-z0-9]([-a-z0-9]*[a-z]([-a-z0-9]*[a-z0-9])?)?$', { maxLength: 15 })), containerPort: port(), protocol: optional(str({ enum: ['TCP', 'UDP', 'SCTP'] })) }, ['containerPort']))),
    },
    ['name', 'image', 'resources'],
  ),
  networkPolicyPeer: k8sObj(
    { podSelector: optional({ type: 'object' }), namespaceSelector: optional({ type: 'object' }), ipBlock: optional(obj({ cidr: cidr(), except: optional(list(cidr())) })) },
    [],
    // An ipBlock stands alone; selectors may be combined.
    { additionalProperties: false, minProperties: 1, if: { required: ['ipBlock'] }, then: { maxProperties: 1 } },
  ),
  networkPolicyPort: k8sObj({ port: optional({ type: ['integer', 'string'], minimum: 1, maximum: 65535, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }), endPort: optional(port()), protocol: optional(str({ enum: ['TCP', 'UDP', 'SCTP'] })) }, [], { additionalProperties: false }),
  ingressRule: k8sObj({ from: optional(list({ $ref: '#/definitions/networkPolicyPeer' })), ports: optional(list({ $ref: '#/definitions/networkPolicyPort' })) }, [], { additionalProperties: false }),
  egressRule: k8sObj({ to: optional(list({ $ref: '#/definitions/networkPolicyPeer' })), ports: optional(list({ $ref: '#/definitions/networkPolicyPort' })) }, [], { additionalProperties: false }),
} satisfies Record<string, Schema>;

const pullSecrets = () => list(obj({ name: dnsSubdomain() }));

/** Where a workload's pods run and what they carry: the same keys for every workload. */
const podPlacement = (): Record<string, Schema> => ({
  podAnnotations: ref('annotations'),
  podLabels: ref('labels'),
  nodeSelector: ref('labels'),
  tolerations: list(ref('toleration')),
  affinity: ref('affinity'),
  priorityClassName: orEmpty(dnsSubdomain()),
  topologySpreadConstraints: list(ref('topologySpreadConstraint')),
});

/** What a studio adds to a workload's pods and main container. */
const podExtras = (): Record<string, Schema> => ({
  extraEnv: list(ref('envVar')),
  extraEnvFrom: list(ref('envFromSource')),
  extraVolumes: list(ref('volume')),
  extraVolumeMounts: list(ref('volumeMount')),
  sidecars: list(ref('container')),
  initContainers: list(ref('container')),
});

const serviceAccount = () => obj({ annotations: ref('annotations') });

/** A cron schedule as CronJobs and Velero read it: five fields, or a macro such as @daily. */
const CRON_SCHEDULE = '^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[^ \\t]+([ \\t]+[^ \\t]+){4})$';
/** An IANA time zone name (Europe/Berlin, UTC, America/Argentina/Buenos_Aires). */
const TIME_ZONE = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$';
/** A Go duration with a unit on every number (720h, 1h30m, 90s). */
const GO_DURATION = '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$';

/** One bundled data service's values (postgres, redis, rabbitmq). */
function dataStore(own: Record<string, Schema>, exporter: boolean): Schema {
  const retention = () => orEmpty(pattern('^(Retain|Delete)$'));
  return obj({
    enabled: bool(),
    image: ref('image'),
    auth: obj({ existingSecret: secretName(), passwordKey: secretKey(), urlKey: secretKey() }),
    persistence: obj({
      size: size(),
      storageClass: orEmpty(dnsSubdomain()),
      existingClaim: orEmpty(dnsSubdomain()),
      retentionPolicy: obj({ whenDeleted: retention(), whenScaled: retention() }),
    }),
    resources: ref('resources'),
    ...podPlacement(),
    serviceAccount: serviceAccount(),
    ...podExtras(),
    pdb: obj({ enabled: bool() }),
    metrics: obj({ enabled: bool(), ...(exporter ? { image: ref('image'), resources: ref('resources') } : {}), serviceMonitor: obj({ enabled: bool() }) }),
    external: obj({
      host: orEmpty(pattern(serviceHost, { maxLength: 253 })),
      port: port(),
      existingSecret: secretName(),
      existingSecretKey: secretKey(),
      cidrs: cidrs(),
    }),
    ...own,
  });
}

const probe = (withDelay: boolean) =>
  obj({
    ...(withDelay ? { initialDelaySeconds: int(0, 3600) } : {}),
    periodSeconds: int(1, 3600),
    ...(withDelay ? { timeoutSeconds: int(1, 3600) } : {}),
    failureThreshold: int(1, 1000),
  });

// Identifiers PostgreSQL and RabbitMQ take without quoting, and that fit into a URL unescaped.
/** A five-field cron expression (minute hour day-of-month month day-of-week), as KEDA's cron scaler reads it. */
const CRON = '^[0-9*/,-]+ [0-9*/,-]+ [0-9*/,?LW-]+ [0-9A-Za-z*/,-]+ [0-9A-Za-z*/,?L#-]+$';

/** One workload's VerticalPodAutoscaler: update mode and bounds. */
const vpaTarget = () =>
  obj({
    updateMode: str({ enum: ['Off', 'Initial', 'Recreate', 'InPlaceOrRecreate', 'Auto'] }),
    minAllowed: obj({ cpu: optional(cpu()), memory: optional(memory()) }),
    maxAllowed: obj({ cpu: optional(cpu()), memory: optional(memory()) }),
  });

const identifier = () => pattern('^[a-zA-Z_][a-zA-Z0-9_]{0,62}$');

/** The whole schema. */
export function valuesSchema(): Schema {
  const config = Object.fromEntries(
    ['tickRate', 'patchRate', 'sendProfile', 'zoneCount', 'zoneSize', 'zones', 'interestRadius', 'drainSeconds', 'saveIntervalSeconds', 'logLevel'].map((k) => [k, fromEnv(k as EnvKey)]),
  );
  const properties: Record<string, Schema> = {
    // Shared with parent charts, which may put keys of their own here.
    global: {
      type: 'object',
      properties: {
        imageRegistry: orEmpty(pattern('^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*/?$')),
        imagePullSecrets: list({ anyOf: [dnsSubdomain(), obj({ name: dnsSubdomain() })] }),
        compatibility: obj({ openshift: obj({ adaptSecurityContext: str({ enum: ['auto', 'force', 'disabled'] }) }) }),
      },
      required: ['imageRegistry', 'imagePullSecrets', 'compatibility'],
    },
    nameOverride: orEmpty(dnsLabel(42)),
    // The prefix of every object name, Services included: a DNS-1035 label (starts with a letter).
    fullnameOverride: orEmpty(pattern('^[a-z]([-a-z0-9]*[a-z0-9])?$', { maxLength: 42 })),
    commonLabels: ref('labels'),
    imagePullSecrets: pullSecrets(),
    image: obj({ repository: pattern(IMAGE_REPOSITORY), tag: orEmpty(pattern(imageTag)), digest: orEmpty(pattern(imageDigest)), pullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }) }),
    capacity: obj({
      playersPerPod: fromEnv('maxPlayers'),
      targetPlayers: int(0, 10_000_000),
      spareReplicas: int(0, 100),
      scaleAtPercent: int(1, 100),
    }),
    gameServer: obj({
      replicas: nullable(int(0, 1000)),
      config: obj(config),
      terminationGracePeriodSeconds: int(1, 7200),
      publicUrl: orEmpty(fromEnv('publicUrl')),
      auth: obj({ existingSecret: secretName(), existingSecretKey: secretKey() }),
      admin: obj({ existingSecret: secretName(), existingSecretKey: secretKey() }),
      resources: ref('resources'),
      rollingUpdate: obj({ maxSurge: int(1, 100) }),
      spread: obj({ mode: str({ enum: ['preferred', 'required'] }) }),
      probes: obj({ liveness: probe(true), readiness: probe(true), startup: probe(false) }),
      ...podPlacement(),
      serviceAccount: serviceAccount(),
      ...podExtras(),
      autoscaling: obj({
        enabled: bool(),
        minReplicas: nullable(int(1, 1000)),
        maxReplicas: nullable(int(1, 1000)),
        setReplicas: bool(),
        targetCPUUtilizationPercentage: int(0, 100),
        targetMemoryUtilizationPercentage: int(0, 100),
        playersPerPod: obj({ enabled: bool(), metricName: pattern('^[a-zA-Z_:][a-zA-Z0-9_:]*$') }),
        keda: obj({
          enabled: bool(),
          namespace: dnsLabel(),
          pollingInterval: int(1, 3600),
          cron: list(
            obj({
              // An IANA time zone name (Asia/Seoul, America/New_York, UTC), as KEDA's cron scaler reads it.
              timezone: pattern('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$'),
              start: pattern(CRON),
              end: pattern(CRON),
              desiredReplicas: int(1, 1000),
            }),
          ),
          prometheus: obj({ enabled: bool(), serverAddress: orEmpty(pattern('^https?://[^\\s/]+(/[^\\s]*)?$')) }),
          rabbitmq: obj({ enabled: bool(), queueName: orEmpty(pattern('^\\S{1,255}$')), queueLength: int(1, 1_000_000) }),
        }),
      }),
      pdb: obj({ enabled: bool(), maxUnavailable: int(1, 1000), minAvailable: nullable(int(1, 1000)) }),
    }),
    canary: obj({
      enabled: bool(),
      replicas: int(1, 100),
      image: obj({ tag: orEmpty(pattern(imageTag)), digest: orEmpty(pattern(imageDigest)) }),
      // {} means "as gameServer.resources".
      resources: { anyOf: [obj({}), ref('resources')] },
      podLabels: ref('labels'),
      podAnnotations: ref('annotations'),
    }),
    vpa: obj({
      enabled: bool(),
      controlledValues: str({ enum: ['RequestsAndLimits', 'RequestsOnly'] }),
      ...Object.fromEntries(['gameServer', 'postgres', 'redis', 'rabbitmq'].map((k) => [k, vpaTarget()])),
    }),
    nodePortRange: pattern('^[0-9]{1,5}-[0-9]{1,5}$'),
    service: obj({
      type: str({ enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }),
      port: port(),
      nodePort: nullable(port()),
      annotations: ref('annotations'),
      externalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
      loadBalancerSourceRanges: cidrs(0),
      sessionAffinityTimeoutSeconds: int(1, 86400),
    }),
    ingress: obj({
      enabled: bool(),
      className: orEmpty(dnsSubdomain()),
      annotations: ref('annotations'),
      hosts: list(pattern(ingressHost, { maxLength: 253 })),
      tls: list(obj({ secretName: dnsSubdomain(), hosts: optional(list(pattern(ingressHost, { maxLength: 253 }))) })),
    }),
    udp: obj({
      mode: str({ enum: ['nodePort', 'hostPort', 'hostNetwork', 'relay', 'disabled'] }),
      // The server runs as a non-root user: on the host network it cannot bind ports below 1024.
      port: fromEnv('udpPort', { minimum: 1024 }),
      nodePort: fromEnv('udpPort', { minimum: 1 }),
      announce: obj({ addressTypes: list(str({ enum: ['ExternalIP', 'InternalIP'] }), { minItems: 1, uniqueItems: true }) }),
      iceServers: list(obj({ urls: list(pattern(FORMATS.iceServerUrl.pattern), { minItems: 1 }), username: optional(str()) })),
      serviceAnnotations: ref('annotations'),
      iceServersSecret: obj({ name: secretName(), key: secretKey() }),
      allowedCIDRs: cidrs(),
    }),
    migrations: obj({
      waitSeconds: int(1, 3600),
      activeDeadlineSeconds: int(60, 86400),
      backoffLimit: int(0, 10),
      resources: ref('resources'),
      ...podPlacement(),
      serviceAccount: serviceAccount(),
    }),
    postgres: dataStore({ database: identifier(), username: identifier(), shm: obj({ enabled: bool(), sizeLimit: size() }) }, true),
    backup: obj({
      pgDump: obj({
        enabled: bool(),
        target: str({ enum: ['bundled', 'external'] }),
        schedule: pattern(CRON_SCHEDULE),
        timeZone: orEmpty(pattern(TIME_ZONE)),
        retention: int(1, 1000),
        activeDeadlineSeconds: int(60, 86400),
        backoffLimit: int(0, 10),
        historyLimit: int(0, 100),
        persistence: obj({ size: size(), storageClass: orEmpty(dnsSubdomain()), existingClaim: orEmpty(dnsSubdomain()) }),
        resources: ref('resources'),
        ...podPlacement(),
        serviceAccount: serviceAccount(),
      }),
      velero: obj({
        enabled: bool(),
        namespace: dnsLabel(),
        schedule: pattern(CRON_SCHEDULE),
        ttl: pattern(GO_DURATION),
        storageLocation: orEmpty(dnsSubdomain()),
        snapshotVolumes: bool(),
        defaultVolumesToFsBackup: bool(),
      }),
    }),
    redis: dataStore({}, true),
    rabbitmq: dataStore({ username: identifier() }, false),
    networkPolicy: obj({
      enabled: bool(),
      apiServerCIDRs: cidrs(),
      apiServerPorts: list(port(), { minItems: 1 }),
      nodeCIDRs: cidrs(0),
      extraIngress: obj(Object.fromEntries(['gameServer', 'postgres', 'redis', 'rabbitmq'].map((k) => [k, list(ref('ingressRule'))]))),
      extraEgress: obj(Object.fromEntries(['gameServer', 'postgres', 'redis', 'rabbitmq'].map((k) => [k, list(ref('egressRule'))]))),
    }),
    mesh: obj({
      istio: obj({
        enabled: bool(),
        mtlsMode: str({ enum: ['STRICT', 'PERMISSIVE'] }),
        playersThroughGateway: bool(),
        canaryWeight: nullable(int(0, 100)),
        controlPlaneNamespace: dnsLabel(),
      }),
    }),
    monitoring: obj({
      namespace: dnsLabel(),
      release: pattern(LABEL_VALUE),
      serviceMonitor: obj({ enabled: bool(), interval: pattern(PROMETHEUS_DURATION, { minLength: 2 }), scrapeTimeout: pattern(PROMETHEUS_DURATION, { minLength: 2 }) }),
      prometheusRule: obj({
        enabled: bool(),
        latencyP95Seconds: num({ exclusiveMinimum: 0 }),
        tickOverrunsPerSecond: num({ minimum: 0 }),
        rejectedMessageRatio: num({ minimum: 0, maximum: 1 }),
        restartsPerHour: int(0, 1000),
        capacityRatio: num({ minimum: 0, maximum: 1 }),
        saveFailuresFor: pattern(PROMETHEUS_DURATION, { minLength: 2 }),
      }),
      dashboard: obj({ enabled: bool(), labels: ref('labels') }),
    }),
    region: obj({ name: pattern(LABEL_VALUE, { maxLength: 63 }), preferNodes: bool() }),
    cost: obj({
      enabled: bool(),
      cpuHourPrice: num({ minimum: 0 }),
      gibHourPrice: num({ minimum: 0 }),
      // Shown inside the alert's single-quoted description: letters, digits and currency signs only.
      currency: pattern('^[A-Za-z0-9$€£¥₩]{1,12}$'),
      budgetPerPlayerHour: num({ minimum: 0 }),
      budgetFor: pattern(PROMETHEUS_DURATION, { minLength: 2 }),
    }),
    tests: obj({
      players: int(1, 100),
      durationSeconds: int(1, 600),
      check: obj({
        rttP95Ms: int(0, 60_000),
        errors: list(str({ enum: [...CHECKABLE_ERRORS] }), { uniqueItems: true }),
        keptUp: bool(),
      }),
      readyTimeoutSeconds: int(1, 3600),
      resources: ref('resources'),
      ...podPlacement(),
    }),
  };
  // Shared shapes are written out where they are used: every reader of the file (helm 3 and 4, the
  // CLI's own check, editors) then finds a key's schema by walking properties, without references.
  return inline({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: 'Generated from scripts/gen/values-schema.ts by `npm run gen`; do not edit.',
    title: 'Values of the mmo chart',
    ...obj(properties),
  }) as Schema;
}

/** `node` with every `{$ref: '#/definitions/x'}` replaced by (a copy of) that definition. */
function inline(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inline);
  if (!node || typeof node !== 'object') return node;
  const ref = (node as Schema).$ref;
  if (typeof ref === 'string') return inline(definitions[ref.replace('#/definitions/', '') as keyof typeof definitions]);
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v)]));
}

/** Text of values.schema.json. */
export function renderValuesSchema(): string {
  return `${JSON.stringify(valuesSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  await writeFile(VALUES_SCHEMA_PATH, renderValuesSchema());
  process.stdout.write(`wrote ${VALUES_SCHEMA_PATH}\n`);
}
