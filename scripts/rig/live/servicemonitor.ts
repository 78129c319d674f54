/**
 * ServiceMonitor → Prometheus scrape configuration, as prometheus-operator generates it
 * (pkg/prometheus/promcfg.go, `generateServiceMonitorConfig`, endpoints role): one job per endpoint
 * named `serviceMonitor/<namespace>/<name>/<i>`, keeping the Services the selector matches and the
 * endpoint port named by `port`, labelling every target with `namespace`, `service`, `pod`,
 * `container`, `job`, `endpoint` and the `podTargetLabels`/`targetLabels` (names sanitised:
 * `mmo.dev/track` → `mmo_dev_track`), then the endpoint's own `relabelings`.
 *
 * Stricter than the operator on purpose: a field this translation does not carry over refuses the
 * whole ServiceMonitor (naming the field), as do a relabeling Prometheus would reject and a
 * scrapeTimeout above the interval — so a ServiceMonitor that would not work under the operator
 * cannot pass on the rig. Pure.
 */

/** Prometheus' label name rule. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Prometheus' duration syntax. */
const DURATION = /^(0|(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$/;
const ACTIONS = ['replace', 'keep', 'drop', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];

const SPEC_FIELDS = new Set(['selector', 'namespaceSelector', 'endpoints', 'podTargetLabels', 'targetLabels', 'jobLabel']);
const ENDPOINT_FIELDS = new Set(['port', 'targetPort', 'path', 'scheme', 'interval', 'scrapeTimeout', 'honorLabels', 'honorTimestamps', 'relabelings', 'metricRelabelings', 'params', 'filterRunning']);
const RELABEL_FIELDS = new Set(['sourceLabels', 'separator', 'targetLabel', 'regex', 'modulus', 'replacement', 'action']);

export interface ServiceMonitor {
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

/**
 * How the generated jobs find targets. Debian's Prometheus is built without Kubernetes discovery, so
 * the rig discovers the endpoints itself (endpointsTargets, the same `__meta_kubernetes_*` labels
 * Prometheus' `role: endpoints` gives) and hands them over as one file_sd file per job in `targetsDir`.
 */
export interface DiscoveryConfig {
  readonly targetsDir: string;
}

/** The file_sd file of a job (its name made safe for a file). */
export function targetsFile(discovery: DiscoveryConfig, job: string): string {
  return `${discovery.targetsDir}/${job.replace(/[^a-zA-Z0-9_.-]/g, '_')}.json`;
}

export type RelabelConfig = Record<string, unknown>;
export type ScrapeConfig = Record<string, unknown>;

/** The operator's sanitizeLabelName: every character outside [a-zA-Z0-9_] becomes `_`. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Thrown with every reason a ServiceMonitor is refused. */
export class ServiceMonitorError extends Error {
  readonly reasons: string[];

  constructor(reasons: string[]) {
    super(reasons.join('; '));
    this.reasons = reasons;
  }
}

function relabel(r: Record<string, unknown>, where: string, reasons: string[]): RelabelConfig {
  for (const k of Object.keys(r)) if (!RELABEL_FIELDS.has(k)) reasons.push(`${where}.${k} is not a relabeling field`);
  const action = String(r.action ?? 'replace').toLowerCase();
  if (!ACTIONS.includes(action)) reasons.push(`${where}.action "${String(r.action)}" is not one of ${ACTIONS.join(', ')}`);
  const sources = (r.sourceLabels ?? []) as unknown[];
  if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string' || !LABEL_NAME.test(s))) reasons.push(`${where}.sourceLabels must be label names, got ${JSON.stringify(r.sourceLabels)}`);
  const target = r.targetLabel;
  if (target !== undefined && (typeof target !== 'string' || (action !== 'replace' && !LABEL_NAME.test(target)) || (action === 'replace' && !/^[a-zA-Z_$][a-zA-Z0-9_${}]*$/.test(target)))) {
    reasons.push(`${where}.targetLabel "${String(target)}" is not a label name`);
  }
  if (['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) && !target) reasons.push(`${where}: action ${action} needs a targetLabel`);
  if (['keep', 'drop', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) && sources.length === 0) reasons.push(`${where}: action ${action} needs sourceLabels`);
  if (action === 'hashmod' && !(Number(r.modulus) > 0)) reasons.push(`${where}: action hashmod needs a modulus above 0`);
  if (r.regex !== undefined) {
    try {
      new RegExp(`^(?:${String(r.regex)})$`);
    } catch (err) {
      reasons.push(`${where}.regex ${JSON.stringify(r.regex)} does not compile: ${(err as Error).message}`);
    }
  }
  const out: RelabelConfig = {};
  if (sources.length) out.source_labels = sources;
  if (r.separator !== undefined) out.separator = r.separator;
  if (target !== undefined) out.target_label = target;
  if (r.regex !== undefined) out.regex = r.regex;
  if (r.modulus !== undefined) out.modulus = r.modulus;
  if (r.replacement !== undefined) out.replacement = r.replacement;
  out.action = action;
  return out;
}

/** The scrape jobs of one ServiceMonitor; throws ServiceMonitorError naming everything that refuses it. */
export function scrapeConfigs(sm: ServiceMonitor, discovery: DiscoveryConfig): GeneratedJob[] {
  const reasons: string[] = [];
  const ns = sm.metadata?.namespace ?? 'default';
  const name = sm.metadata?.name ?? '';
  const spec = sm.spec ?? {};
  for (const k of Object.keys(spec)) if (!SPEC_FIELDS.has(k)) reasons.push(`spec.${k} is a field the rig does not translate`);
  const selector = (spec.selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  if (!spec.selector) reasons.push('spec.selector is missing (the operator would select every Service of the namespace; say so with selector: {})');
  const nsSel = (spec.namespaceSelector ?? {}) as { any?: boolean; matchNames?: string[] };
  const namespaces = nsSel.any ? undefined : nsSel.matchNames?.length ? nsSel.matchNames : [ns];
  const endpoints = (spec.endpoints ?? []) as Record<string, unknown>[];
  if (!Array.isArray(endpoints) || endpoints.length === 0) reasons.push('spec.endpoints is empty: nothing would be scraped');
  const podTargetLabels = (spec.podTargetLabels ?? []) as string[];
  const targetLabels = (spec.targetLabels ?? []) as string[];

  const jobs = (Array.isArray(endpoints) ? endpoints : []).map((ep, i) => {
    const where = `spec.endpoints[${i}]`;
    for (const k of Object.keys(ep)) if (!ENDPOINT_FIELDS.has(k)) reasons.push(`${where}.${k} is a field the rig does not translate`);
    for (const d of ['interval', 'scrapeTimeout'] as const) {
      if (ep[d] !== undefined && !DURATION.test(String(ep[d]))) reasons.push(`${where}.${d} "${String(ep[d])}" is not a Prometheus duration`);
    }
    if (ep.interval && ep.scrapeTimeout && durationMs(String(ep.scrapeTimeout)) > durationMs(String(ep.interval))) {
      reasons.push(`${where}.scrapeTimeout ${String(ep.scrapeTimeout)} is longer than its interval ${String(ep.interval)} (Prometheus refuses that)`);
    }
    if (!ep.port && ep.targetPort === undefined) reasons.push(`${where} names neither port nor targetPort`);
    const relabelings: RelabelConfig[] = [{ source_labels: ['job'], target_label: '__tmp_prometheus_job_name' }];
    for (const k of Object.keys(selector.matchLabels ?? {}).sort()) {
      const l = sanitizeLabelName(k);
      relabelings.push({ action: 'keep', source_labels: [`__meta_kubernetes_service_label_${l}`, `__meta_kubernetes_service_labelpresent_${l}`], regex: `(${selector.matchLabels![k]});true` });
    }
    for (const e of selector.matchExpressions ?? []) {
      const l = sanitizeLabelName(e.key);
      const values = `(${(e.values ?? []).join('|')});true`;
      if (e.operator === 'In') relabelings.push({ action: 'keep', source_labels: [`__meta_kubernetes_service_label_${l}`, `__meta_kubernetes_service_labelpresent_${l}`], regex: values });
      else if (e.operator === 'NotIn') relabelings.push({ action: 'drop', source_labels: [`__meta_kubernetes_service_label_${l}`, `__meta_kubernetes_service_labelpresent_${l}`], regex: values });
      else if (e.operator === 'Exists') relabelings.push({ action: 'keep', source_labels: [`__meta_kubernetes_service_labelpresent_${l}`], regex: 'true' });
      else if (e.operator === 'DoesNotExist') relabelings.push({ action: 'drop', source_labels: [`__meta_kubernetes_service_labelpresent_${l}`], regex: 'true' });
      else reasons.push(`spec.selector.matchExpressions: operator ${e.operator} is not In, NotIn, Exists or DoesNotExist`);
    }
    if (ep.port) relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: String(ep.port) });
    else if (typeof ep.targetPort === 'string') relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.targetPort });
    else if (typeof ep.targetPort === 'number') relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(ep.targetPort) });
    for (const [kind, label] of [['Node', 'node'], ['Pod', 'pod']] as const) {
      relabelings.push({ source_labels: ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'], separator: ';', regex: `${kind};(.*)`, replacement: '${1}', target_label: label });
    }
    relabelings.push(
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
    );
    if (ep.filterRunning !== false) relabelings.push({ action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' });
    for (const l of targetLabels) relabelings.push({ source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' });
    for (const l of podTargetLabels) relabelings.push({ source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' });
    relabelings.push({ source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' });
    if (spec.jobLabel) relabelings.push({ source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(String(spec.jobLabel))}`], target_label: 'job', regex: '(.+)', replacement: '${1}' });
    if (ep.port) relabelings.push({ target_label: 'endpoint', replacement: String(ep.port) });
    else if (typeof ep.targetPort === 'string') relabelings.push({ target_label: 'endpoint', replacement: ep.targetPort });
    ((ep.relabelings ?? []) as Record<string, unknown>[]).forEach((r, j) => relabelings.push(relabel(r, `${where}.relabelings[${j}]`, reasons)));
    const metricRelabelings = ((ep.metricRelabelings ?? []) as Record<string, unknown>[]).map((r, j) => relabel(r, `${where}.metricRelabelings[${j}]`, reasons));

    const job: ScrapeConfig = {
      job_name: `serviceMonitor/${ns}/${name}/${i}`,
      honor_labels: ep.honorLabels === true,
      ...(ep.honorTimestamps !== undefined ? { honor_timestamps: ep.honorTimestamps } : {}),
      file_sd_configs: [{ files: [targetsFile(discovery, `serviceMonitor/${ns}/${name}/${i}`)], refresh_interval: '5s' }],
      ...(ep.interval ? { scrape_interval: ep.interval } : {}),
      ...(ep.scrapeTimeout ? { scrape_timeout: ep.scrapeTimeout } : {}),
      ...(ep.path ? { metrics_path: ep.path } : {}),
      ...(ep.params ? { params: ep.params } : {}),
      ...(ep.scheme ? { scheme: ep.scheme } : {}),
      relabel_configs: relabelings,
      ...(metricRelabelings.length ? { metric_relabel_configs: metricRelabelings } : {}),
    };
    return { job, namespaces };
  });
  if (reasons.length) throw new ServiceMonitorError(reasons);
  return jobs;
}

/** A generated job and the namespaces its discovery covers (undefined: all). */
export interface GeneratedJob {
  readonly job: ScrapeConfig;
  readonly namespaces: readonly string[] | undefined;
}

/** Milliseconds of a Prometheus duration (already checked against DURATION). */
export function durationMs(d: string): number {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  let total = 0;
  for (const m of d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

/** What the operator made of one ServiceMonitor. */
export interface MonitorOutcome {
  readonly namespace: string;
  readonly name: string;
  readonly accepted: boolean;
  /** Why it was refused (empty when accepted). */
  readonly reasons: string[];
  readonly jobs: string[];
}

/** The Prometheus configuration for every ServiceMonitor, and what became of each. Pure. */
export function prometheusConfig(monitors: readonly ServiceMonitor[], discovery: DiscoveryConfig): { config: Record<string, unknown>; outcomes: MonitorOutcome[]; jobs: GeneratedJob[] } {
  const outcomes: MonitorOutcome[] = [];
  const jobs: GeneratedJob[] = [];
  const sorted = [...monitors].sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  for (const sm of sorted) {
    const id = { namespace: sm.metadata?.namespace ?? '', name: sm.metadata?.name ?? '' };
    try {
      const made = scrapeConfigs(sm, discovery);
      jobs.push(...made);
      outcomes.push({ ...id, accepted: true, reasons: [], jobs: made.map((j) => String(j.job.job_name)) });
    } catch (err) {
      outcomes.push({ ...id, accepted: false, reasons: err instanceof ServiceMonitorError ? err.reasons : [String(err)], jobs: [] });
    }
  }
  return { config: { global: { scrape_interval: '30s', scrape_timeout: '10s', evaluation_interval: '30s' }, scrape_configs: jobs.map((j) => j.job) }, outcomes, jobs };
}

// --- discovery -----------------------------------------------------------------------------------

/** The parts of the API objects discovery reads (v1 Endpoints, Services, Pods). */
export interface DiscoveryObjects {
  readonly endpoints: readonly {
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
    subsets?: {
      addresses?: EndpointAddress[];
      notReadyAddresses?: EndpointAddress[];
      ports?: { name?: string; port: number; protocol?: string }[];
    }[];
  }[];
  readonly services: readonly { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } }[];
  readonly pods: readonly {
    metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string> };
    spec?: { nodeName?: string; containers?: { name: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[] };
    status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] };
  }[];
}

interface EndpointAddress {
  ip: string;
  nodeName?: string;
  hostname?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

function labelSet(prefix: string, labels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    const n = sanitizeLabelName(k);
    out[`${prefix}_label_${n}`] = v;
    out[`${prefix}_labelpresent_${n}`] = 'true';
  }
  return out;
}

/**
 * What Prometheus' Kubernetes discovery with `role: endpoints` finds in `namespaces` (undefined: all):
 * one target per address (ready and not ready) and port of every Endpoints object, labelled with the
 * endpoint's port, readiness and target, the Service's labels, and for an address of a pod the pod's
 * name, labels, phase, readiness and the container port it serves (discovery/kubernetes/endpoints.go).
 * Not carried over: annotations, the pod's controller, and the extra targets Prometheus adds for
 * container ports no Endpoints lists. Pure.
 */
export function endpointsTargets(objects: DiscoveryObjects, namespaces: readonly string[] | undefined): TargetGroup[] {
  const inScope = (ns: string | undefined) => !namespaces || namespaces.includes(ns ?? '');
  const groups: TargetGroup[] = [];
  for (const ep of objects.endpoints) {
    const ns = ep.metadata?.namespace ?? '';
    if (!inScope(ns)) continue;
    const svc = objects.services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === ep.metadata?.name);
    const groupLabels: Record<string, string> = {
      __meta_kubernetes_namespace: ns,
      __meta_kubernetes_endpoints_name: ep.metadata?.name ?? '',
      ...labelSet('__meta_kubernetes_endpoints', ep.metadata?.labels),
      ...(svc ? { __meta_kubernetes_service_name: svc.metadata?.name ?? '', ...labelSet('__meta_kubernetes_service', svc.metadata?.labels) } : {}),
    };
    for (const subset of ep.subsets ?? []) {
      const addresses = [...(subset.addresses ?? []).map((a) => ({ a, ready: 'true' })), ...(subset.notReadyAddresses ?? []).map((a) => ({ a, ready: 'false' }))];
      for (const port of subset.ports ?? []) {
        for (const { a, ready } of addresses) {
          const labels: Record<string, string> = {
            ...groupLabels,
            __meta_kubernetes_endpoint_port_name: port.name ?? '',
            __meta_kubernetes_endpoint_port_protocol: port.protocol ?? 'TCP',
            __meta_kubernetes_endpoint_ready: ready,
            ...(a.hostname ? { __meta_kubernetes_endpoint_hostname: a.hostname } : {}),
            ...(a.nodeName ? { __meta_kubernetes_endpoint_node_name: a.nodeName } : {}),
            ...(a.targetRef?.kind ? { __meta_kubernetes_endpoint_address_target_kind: a.targetRef.kind, __meta_kubernetes_endpoint_address_target_name: a.targetRef.name ?? '' } : {}),
          };
          const pod = a.targetRef?.kind === 'Pod' ? objects.pods.find((p) => p.metadata?.namespace === ns && p.metadata?.name === a.targetRef?.name) : undefined;
          if (pod) {
            const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'unknown';
            Object.assign(labels, {
              __meta_kubernetes_pod_name: pod.metadata?.name ?? '',
              __meta_kubernetes_pod_ip: pod.status?.podIP ?? '',
              __meta_kubernetes_pod_uid: pod.metadata?.uid ?? '',
              __meta_kubernetes_pod_node_name: pod.spec?.nodeName ?? '',
              __meta_kubernetes_pod_host_ip: pod.status?.hostIP ?? '',
              __meta_kubernetes_pod_phase: pod.status?.phase ?? '',
              __meta_kubernetes_pod_ready: ready.toLowerCase(),
              ...labelSet('__meta_kubernetes_pod', pod.metadata?.labels),
            });
            for (const c of pod.spec?.containers ?? []) {
              const cp = c.ports?.find((p) => p.containerPort === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
              if (!cp) continue;
              Object.assign(labels, {
                __meta_kubernetes_pod_container_name: c.name,
                __meta_kubernetes_pod_container_port_name: cp.name ?? '',
                __meta_kubernetes_pod_container_port_number: String(cp.containerPort),
                __meta_kubernetes_pod_container_port_protocol: cp.protocol ?? 'TCP',
              });
            }
          }
          groups.push({ targets: [`${a.ip}:${port.port}`], labels });
        }
      }
    }
  }
  return groups;
}
