/**
 * Which metrics source a command uses: the Prometheus the user named; else kube-prometheus-stack's,
 * found in the cluster, when it answers; else each pod's /metrics through the pod proxy when the user
 * may use it; else none (said, never guessed).
 */
import type { Kube } from '../kube/kube.ts';
import { findClusterPrometheus, PodProxySource, PrometheusSource, type MetricsSource } from './source.ts';

export interface ChosenSource {
  readonly source?: MetricsSource;
  /** Why there is none, or what was tried before the one chosen. */
  readonly note?: string;
}

export async function chooseMetricsSource(kube: Kube, namespace: string, opts: { prometheusUrl?: string; monitoringNamespace?: string }): Promise<ChosenSource> {
  if (opts.prometheusUrl) return { source: new PrometheusSource({ url: opts.prometheusUrl }) };
  const tried: string[] = [];
  const found = opts.monitoringNamespace ? await findClusterPrometheus(kube, opts.monitoringNamespace) : undefined;
  if (found) {
    const p = new PrometheusSource(found, kube);
    try {
      await p.query('up', undefined);
      return { source: p };
    } catch (err) {
      tried.push(`${p.describe} did not answer (${(err as Error).message.split('\n')[0]})`);
    }
  }
  const [proxy] = await kube.canI([{ verb: 'get', group: '', resource: 'pods/proxy', namespace }]).catch(() => [{ allowed: false }]);
  if (proxy?.allowed) return { source: new PodProxySource(kube), note: tried.join('; ') || undefined };
  tried.push(`you may not use pods/proxy in ${namespace} to read each pod's /metrics`);
  return { note: `no game metrics: ${tried.join('; ')}. Give --prometheus-url, or grant get pods/proxy.` };
}
