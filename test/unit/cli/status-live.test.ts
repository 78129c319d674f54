// mmoctl status with the game servers' own numbers: players per pod and per track, the total, and
// move→ack p95 and tick p99 per track from two reads of each pod's /metrics — and the verdict they
// move when players wait too long. Numbers are never invented: a pod that cannot be read stays unknown.
import { describe, expect, it } from 'vitest';
import { PodProxySource } from '../../../cli/metrics/source.ts';
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

async function live(w: ReleaseWorld, pods: Parameters<typeof serve>[1]) {
  const kube = w.kube();
  const helm = w.helm();
  serve(kube, pods);
  return statusReport(await collectStatus(REF, { kube: async () => kube, helm: async () => helm, now: () => NOW, metrics: async (k) => ({ source: new PodProxySource(k) }), metricsWindowMs: 10 }));
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
});
