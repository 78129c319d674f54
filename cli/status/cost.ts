/**
 * What the game servers cost per player-hour (values `cost.*`): the chart's recording rules when a
 * Prometheus has them (they read the pods' requests from kube-state-metrics), else the same sum made
 * here from the game server pods' requests and the players the metrics counted.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { RECORDED } from '../../contract/metrics.ts';
import { describeError } from '../errors.ts';
import { podRequests } from '../manifests.ts';
import { PrometheusSource, type MetricsSource } from '../metrics/source.ts';
import type { CostSettings, CostStatus } from './model.ts';

const GIB = 1024 ** 3;

/** The cost of running `pods` for an hour at the release's prices, and per player when anyone plays. */
export function costFromRequests(settings: CostSettings, pods: readonly V1Pod[], players: number | null, why: string): CostStatus {
  const requested = pods.reduce((sum, p) => {
    const r = podRequests(p.spec ?? { containers: [] });
    return { cpu: sum.cpu + r.cpu, memory: sum.memory + r.memory };
  }, { cpu: 0, memory: 0 });
  const perHour = requested.cpu * settings.cpuHourPrice + (requested.memory / GIB) * settings.gibHourPrice;
  return {
    currency: settings.currency,
    perHour,
    perPlayerHour: players ? perHour / players : null,
    budgetPerPlayerHour: settings.budgetPerPlayerHour > 0 ? settings.budgetPerPlayerHour : null,
    source: 'requests',
    note: `the requests of ${pods.length} game server ${pods.length === 1 ? 'pod' : 'pods'} at ${settings.cpuHourPrice} ${settings.currency} per CPU-hour and ${settings.gibHourPrice} per GiB-hour, over the players counted (${why})`,
  };
}

/** The chart's recorded cost from Prometheus, else the pods' requests (saying why). */
export async function readCost(settings: CostSettings, source: MetricsSource, namespace: string, pods: readonly V1Pod[], players: number | null): Promise<CostStatus> {
  if (!(source instanceof PrometheusSource)) return costFromRequests(settings, pods, players, 'no Prometheus was read');
  const selector = `{namespace="${namespace}"}`;
  try {
    const [perHour, perPlayer] = await Promise.all([source.query(`${RECORDED.requestedCostPerHour}${selector}`), source.query(`${RECORDED.costPerPlayerHour}${selector}`)]);
    const value = (series: typeof perHour) => (series.length ? series.reduce((n, s) => n + Number(s.value[1]), 0) : null);
    const hour = value(perHour);
    if (hour === null) return costFromRequests(settings, pods, players, `${source.describe} has no ${RECORDED.requestedCostPerHour} series: the rule needs kube-state-metrics`);
    return {
      currency: settings.currency,
      perHour: hour,
      perPlayerHour: value(perPlayer),
      budgetPerPlayerHour: settings.budgetPerPlayerHour > 0 ? settings.budgetPerPlayerHour : null,
      source: 'prometheus',
      note: `${source.describe}: the chart's recording rules ${RECORDED.requestedCostPerHour} and ${RECORDED.costPerPlayerHour}`,
    };
  } catch (err) {
    return costFromRequests(settings, pods, players, `the recorded cost could not be read: ${describeError(err)}`);
  }
}
