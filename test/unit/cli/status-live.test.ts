// mmoctl status with the game servers' own numbers: players per pod and per track, the total, and
// move→ack p95 and tick p99 per track from two reads of each pod's /metrics — and the verdict they
// move when players wait too long. Numbers are never invented: a pod that cannot be read stays unknown.
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RECORDED } from '../../../contract/metrics.ts';
import { PodProxySource, PrometheusSource } from '../../../cli/metrics/source.ts';
import { statusDocument, type CostSettings } from '../../../cli/status/model.ts';
import { assertDocument } from '../../support/cli.ts';
import { renderStatus } from '../../../cli/status/render.ts';
import { PLAIN } from '../../../cli/ui/style.ts';
import { collectStatus } from '../../../cli/status/collect.ts';
import { statusReport } from '../../../cli/status/verdict.ts';
import { NOW, REF, ReleaseWorld } from './release-world.ts';
import type { FakeKube } from './fakes.ts';

/** /metrics of a game server after `acks` acknowledged moves of `ackMs` each and `ticks` ticks of `tickMs`. */
function metrics(players: number, acks: number, ackMs: number, ticks: number, tickMs: number): string {
  const bucket = (name: string, les: number[], n: number, v: number) => [...les.map((le) => `${name}_bucket{le="${le}"} ${v <= le ? n : 0}`), `${name}_bucket{le="+Inf"} ${n}`, `${name}_count ${n}`, `${name}_sum ${n * v}`];
  return [
    `game_server_active_players{zone="0",transport="ws"} ${players}`,
    ...bucket('game_server_input_ack_latency_seconds', [0.01, 0.025, 0.05, 0.1, 0.25], acks, ackMs / 1000).map((l) => l.replace('{le=', '{transport="ws",le=').replace('_count ', '_count{transport="ws"} ').replace('_sum ', '_sum{transport="ws"} ')),
    ...bucket('game_server_tick_duration_seconds', [0.005, 0.01, 0.025, 0.05, 0.1], ticks, tickMs / 1000),
  ].join('\n');
}

/** Serves each pod's /metrics, advancing its counters on every read (the two reads of the window). */
function serve(kube: FakeKube, pods: Record<string, { players: number; ackMs: number; tickMs: number } | null>): void {
  const reads = new Map<string, number>();
  kube.proxyGet = async (namespace, pod, port, path) => {
    const p = pods[pod];
    if (!p) throw new Error(`${pod}: connection refused`);
    const n = (reads.get(pod) ?? 0) + 1;
    reads.set(pod, n);
    return metrics(p.players, n * 500, p.ackMs, n * 40, p.tickMs);
  };
}

async function live(w: ReleaseWorld, pods: Parameters<typeof serve>[1], cost?: CostSettings) {
  const kube = w.kube();
  const helm = w.helm();
  serve(kube, pods);
  return statusReport(await collectStatus(REF, { kube: async () => kube, helm: async () => helm, now: () => NOW, metrics: async (k) => ({ source: new PodProxySource(k) }), metricsWindowMs: 10, cost: async () => cost }));
}

const PRICES: CostSettings = { currency: 'EUR', cpuHourPrice: 0.04, gibHourPrice: 0.005, budgetPerPlayerHour: 0.0001 };

/** The stable game servers of the world, each requesting 1 CPU and 2 GiB: 0.05 EUR an hour each at PRICES. */
function requesting(w: ReleaseWorld): string[] {
  const stable = w.pods.filter((p) => p.metadata?.labels?.['mmo.dev/track'] === 'stable');
  for (const p of stable) p.spec!.containers[0]!.resources = { requests: { cpu: '1', memory: '2Gi' } };
  return stable.map((p) => p.metadata!.name!);
}

describe('status with live numbers', () => {
  it('shows players per pod and per track, the total, and what players feel per track', async () => {
    const w = new ReleaseWorld();
    const [a, b] = w.pods.filter((p) => p.metadata?.labels?.['mmo.dev/track'] === 'stable').map((p) => p.metadata!.name!);
    const r = await live(w, { [a!]: { players: 410, ackMs: 20, tickMs: 8 }, [b!]: { players: 402, ackMs: 20, tickMs: 8 } });
    expect(r.gameServers.players).toMatchObject({ source: 'pod-metrics', total: 812 });
    expect(r.gameServers.pods.map((p) => [p.name, p.players])).toEqual([[a, 410], [b, 402]]);
    const stable = r.gameServers.tracks.find((t) => t.track === 'stable')!;
    expect(stable).toMatchObject({ players: 812, playersSource: 'pod-metrics' });
    expect(stable.ackP95Ms).toBeGreaterThan(10);
    expect(stable.ackP95Ms).toBeLessThanOrEqual(25);
    expect(r.verdict).toBe('healthy');
  });

  it('calls the release degraded when players wait longer than 100 ms for a move, or ticks overrun', async () => {
    const w = new ReleaseWorld();
    const [a, b] = w.pods.filter((p) => p.metadata?.labels?.['mmo.dev/track'] === 'stable').map((p) => p.metadata!.name!);
    const r = await live(w, { [a!]: { players: 900, ackMs: 180, tickMs: 70 }, [b!]: { players: 900, ackMs: 180, tickMs: 70 } });
    expect(r.verdict).toBe('degraded');
    expect(r.reasons.map((x) => x.message)).toEqual(expect.arrayContaining([expect.stringMatching(/players on the stable game servers wait \d+ ms for a move to be acknowledged \(p95; the target is 100 ms\)/), expect.stringMatching(/take \d+ ms for a world tick \(p99\)/)]));
  });

  it('leaves a pod it could not read unknown, and says why', async () => {
    const w = new ReleaseWorld();
    const [a, b] = w.pods.filter((p) => p.metadata?.labels?.['mmo.dev/track'] === 'stable').map((p) => p.metadata!.name!);
    const r = await live(w, { [a!]: { players: 10, ackMs: 20, tickMs: 8 }, [b!]: null });
    expect(r.gameServers.pods.find((p) => p.name === b)).toMatchObject({ players: null, playersSource: 'unavailable' });
    expect(r.gameServers.players.total).toBeNull();
    expect(r.gameServers.players.note).toMatch(new RegExp(`not read: ${b}: .*connection refused`));
  });

  it('shows the cost per player-hour from the pods\' requests when no Prometheus is read, and warns above budget without changing the verdict', async () => {
    const w = new ReleaseWorld();
    const [a, b] = requesting(w);
    const r = await live(w, { [a!]: { players: 410, ackMs: 20, tickMs: 8 }, [b!]: { players: 402, ackMs: 20, tickMs: 8 } }, PRICES);
    expect(r.gameServers.cost).toMatchObject({ currency: 'EUR', source: 'requests', budgetPerPlayerHour: 0.0001 });
    expect(r.gameServers.cost!.perHour).toBeCloseTo(0.1, 10);
    expect(r.gameServers.cost!.perPlayerHour).toBeCloseTo(0.1 / 812, 10);
    expect(r.gameServers.cost!.note).toMatch(/no Prometheus was read/);
    expect(r.verdict).toBe('healthy');
    expect(r.warnings.map((f) => f.message)).toContainEqual('each player costs 0.000123 EUR per hour, above the budget of 0.0001 EUR (cost.budgetPerPlayerHour)');
    expect(() => assertDocument(JSON.parse(JSON.stringify(statusDocument(r))) as Record<string, unknown>)).not.toThrow();
    expect(renderStatus(r, PLAIN)).toMatch(/\n {2}Cost per player-hour 0\.000123 EUR \(budget 0\.0001\) · 0\.1 EUR per hour\n/);
  });

  it('has no cost per player while nobody plays, and none at all when the release has cost off', async () => {
    const w = new ReleaseWorld();
    const [a, b] = requesting(w);
    const idle = await live(w, { [a!]: { players: 0, ackMs: 20, tickMs: 8 }, [b!]: { players: 0, ackMs: 20, tickMs: 8 } }, PRICES);
    expect(idle.gameServers.cost).toMatchObject({ perPlayerHour: null });
    expect(idle.warnings.filter((f) => /costs/.test(f.message))).toEqual([]);
    const off = await live(w, { [a!]: { players: 5, ackMs: 20, tickMs: 8 }, [b!]: { players: 5, ackMs: 20, tickMs: 8 } });
    expect(off.gameServers.cost).toBeUndefined();
  });

  it('takes the chart\'s recorded cost from Prometheus when it has it, else falls back to the requests and says why', async () => {
    const w = new ReleaseWorld();
    const pods = requesting(w);
    let recorded = true;
    const queries: string[] = [];
    // A Prometheus on loopback: the pods' players, and the recording rules' series when `recorded`.
    const prometheus = createServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams.get('query')!;
      queries.push(q);
      const vector = (metric: Record<string, string>, v: number) => ({ metric, value: [NOW.getTime() / 1000, String(v)] });
      const result = q.startsWith(RECORDED.requestedCostPerHour)
        ? recorded ? [vector({ namespace: REF.namespace }, 2.5)] : []
        : q.startsWith(RECORDED.costPerPlayerHour)
          ? recorded ? [vector({ namespace: REF.namespace }, 0.0125)] : []
          : pods.map((pod) => vector({ __name__: 'game_server_active_players', namespace: REF.namespace, pod, zone: '0', transport: 'ws' }, 100));
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
      const read = async () => {
        const kube = w.kube();
        const helm = w.helm();
        return statusReport(await collectStatus(REF, { kube: async () => kube, helm: async () => helm, now: () => NOW, metrics: async () => ({ source: new PrometheusSource({ url }) }), cost: async () => PRICES }));
      };
      const fromRules = await read();
      expect(queries).toContain(`${RECORDED.costPerPlayerHour}{namespace="${REF.namespace}"}`);
      expect(fromRules.gameServers.cost).toMatchObject({ source: 'prometheus', perHour: 2.5, perPlayerHour: 0.0125 });
      recorded = false;
      const fallback = await read();
      expect(fallback.gameServers.cost).toMatchObject({ source: 'requests', perPlayerHour: 0.1 / 200 });
      expect(fallback.gameServers.cost!.note).toMatch(new RegExp(`has no ${RECORDED.requestedCostPerHour} series: the rule needs kube-state-metrics`));
    } finally {
      prometheus.close();
    }
  });
});
