/**
 * Where mmoctl reads the game servers' own metrics: a Prometheus (given with --prometheus-url, or
 * found in the cluster as kube-prometheus-stack installs it, through the API server's service proxy),
 * else each pod's /metrics through the API server's pod proxy. Either way the answer is the same
 * shape — the raw samples of every game server pod at one moment — so windows, quantiles and the
 * canary's judgement do not care where the numbers came from.
 */
import { METRIC_PREFIX } from '../../contract/metrics.ts';
import { PATHS, PORTS } from '../../contract/ports.ts';
import { parseMetrics, type Sample } from '../../client/loadtest/prometheus.ts';
import { describeError } from '../errors.ts';
import { KubeError, type Kube } from '../kube/kube.ts';

export type { Sample };

/** The samples of one pod, or why they could not be read. */
export type PodSamples = { readonly samples: readonly Sample[] } | { readonly error: string };

export interface MetricsSource {
  /** Where the numbers come from, for people ("prometheus at …", "pods/proxy"). */
  readonly describe: string;
  /** True when the source can answer for a past moment (Prometheus can; a pod scrape cannot). */
  readonly historical: boolean;
  /** The game server metrics of each named pod, now or (when historical) at `at`. */
  snapshot(namespace: string, pods: readonly string[], at?: Date): Promise<Map<string, PodSamples>>;
}

/** Scrapes each pod's metrics port through the API server (needs `get pods/proxy`). */
export class PodProxySource implements MetricsSource {
  readonly describe = 'each pod\'s /metrics through the API server (pods/proxy)';
  readonly historical = false;
  private readonly kube: Kube;

  constructor(kube: Kube) {
    this.kube = kube;
  }

  async snapshot(namespace: string, pods: readonly string[]): Promise<Map<string, PodSamples>> {
    const out = new Map<string, PodSamples>();
    await Promise.all(
      pods.map(async (pod) => {
        try {
          out.set(pod, { samples: parseMetrics(await this.kube.proxyGet(namespace, pod, PORTS.metrics, PATHS.metrics)) });
        } catch (err) {
          out.set(pod, { error: err instanceof KubeError ? err.message : describeError(err) });
        }
      }),
    );
    return out;
  }
}

/** How to reach a Prometheus' HTTP API: a URL, or a Service through the API server's proxy. */
export type PrometheusEndpoint = { readonly url: string } | { readonly namespace: string; readonly service: string; readonly port: number | string };

/** One series of an instant vector. */
interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

interface VectorResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Series[] };
}

/** Labels Prometheus adds to every series that are not the server's own. */
const TARGET_LABELS = new Set(['__name__', 'namespace', 'pod', 'instance', 'job', 'endpoint', 'service', 'container', 'track', 'version', 'prometheus', 'prometheus_replica']);

/** The raw game server series of the pods, as Prometheus last scraped them (instant query). */
export class PrometheusSource implements MetricsSource {
  readonly describe: string;
  readonly historical = true;
  private readonly endpoint: PrometheusEndpoint;
  private readonly kube?: Kube;

  constructor(endpoint: PrometheusEndpoint, kube?: Kube) {
    this.endpoint = endpoint;
    this.kube = kube;
    this.describe = 'url' in endpoint ? `Prometheus at ${endpoint.url}` : `Prometheus ${endpoint.namespace}/${endpoint.service} (services/proxy)`;
  }

  async snapshot(namespace: string, pods: readonly string[], at?: Date): Promise<Map<string, PodSamples>> {
    const out = new Map<string, PodSamples>(pods.map((p) => [p, { samples: [] as Sample[] }]));
    if (!pods.length) return out;
    const selector = `{__name__=~"${METRIC_PREFIX}.*",namespace="${namespace}",pod=~"${pods.map(escapeRegex).join('|')}"}`;
    const res = await this.query(selector, at);
    const byPod = new Map<string, Sample[]>();
    for (const r of res) {
      const pod = r.metric.pod;
      if (!pod) continue;
      const labels = Object.fromEntries(Object.entries(r.metric).filter(([k]) => !TARGET_LABELS.has(k)));
      const list = byPod.get(pod) ?? [];
      list.push({ name: r.metric.__name__!, labels, value: Number(r.value[1]) });
      byPod.set(pod, list);
    }
    for (const pod of pods) out.set(pod, byPod.has(pod) ? { samples: byPod.get(pod)! } : { error: `${this.describe} has no series of pod ${pod} (not scraped yet, or not selected by the ServiceMonitor)` });
    return out;
  }

  /** One instant query; rejects with Prometheus' own error. */
  async query(expr: string, at?: Date): Promise<Series[]> {
    const params = new URLSearchParams({ query: expr, ...(at ? { time: String(at.getTime() / 1000) } : {}) });
    const path = `/api/v1/query?${params}`;
    let text: string;
    if ('url' in this.endpoint) {
      const res = await fetch(new URL(path, this.endpoint.url.replace(/\/+$/, '') + '/'), { signal: AbortSignal.timeout(15_000) }).catch((err: unknown) => {
        throw new Error(`${this.describe} is not reachable: ${describeError(err)}`);
      });
      text = await res.text();
    } else {
      if (!this.kube) throw new Error('a Prometheus behind the service proxy needs the cluster');
      text = await this.kube.serviceProxyGet(this.endpoint.namespace, this.endpoint.service, this.endpoint.port, path);
    }
    let body: VectorResult;
    try {
      body = JSON.parse(text) as VectorResult;
    } catch {
      throw new Error(`${this.describe} did not answer with its API's JSON: ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success') throw new Error(`${this.describe} refused the query: ${body.error ?? body.status}`);
    return body.data?.result ?? [];
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The Prometheus of kube-prometheus-stack, if the cluster has one the user may reach: the
 * `prometheus-operated` Service (or any Service named like a Prometheus) in the monitoring namespace.
 */
export async function findClusterPrometheus(kube: Kube, monitoringNamespace: string): Promise<PrometheusEndpoint | undefined> {
  const services = await kube.list('Service', { namespace: monitoringNamespace }).catch(() => []);
  const svc =
    services.find((s) => s.metadata?.name === 'prometheus-operated') ??
    services.find((s) => /prometheus$/.test(s.metadata?.name ?? '') && (s.spec?.ports ?? []).some((p) => p.port === 9090));
  if (!svc) return undefined;
  const port = (svc.spec?.ports ?? []).find((p) => p.port === 9090 || p.name === 'web' || p.name === 'http-web')?.port ?? 9090;
  return { namespace: monitoringNamespace, service: svc.metadata!.name!, port };
}
