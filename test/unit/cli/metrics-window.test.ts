import { describe, expect, it } from 'vitest';
import { parseMetrics } from '../../../client/loadtest/prometheus.ts';
import { playersByPod, trackStats, type Snapshot } from '../../../cli/metrics/window.ts';

/** A game server's /metrics with `n` acks of `ackMs` each, `ticks` ticks of 5 ms, and counters as given. */
function exposition(o: { players: number; acks: number; ackMs: number; ticks: number; overruns: number; received: number; rejected: number; lost: number; left: number }): string {
  const ackLe = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5];
  const tickLe = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.1, 0.25];
  const lines = [
    `game_server_active_players{zone="0",transport="ws"} ${o.players}`,
    ...ackLe.map((le) => `game_server_input_ack_latency_seconds_bucket{le="${le}",transport="ws"} ${o.ackMs / 1000 <= le ? o.acks : 0}`),
    `game_server_input_ack_latency_seconds_bucket{le="+Inf",transport="ws"} ${o.acks}`,
    `game_server_input_ack_latency_seconds_count{transport="ws"} ${o.acks}`,
    `game_server_input_ack_latency_seconds_sum{transport="ws"} ${(o.acks * o.ackMs) / 1000}`,
    ...tickLe.map((le) => `game_server_tick_duration_seconds_bucket{le="${le}"} ${0.005 <= le ? o.ticks : 0}`),
    `game_server_tick_duration_seconds_bucket{le="+Inf"} ${o.ticks}`,
    `game_server_tick_duration_seconds_count ${o.ticks}`,
    `game_server_tick_duration_seconds_sum ${o.ticks * 0.005}`,
    `game_server_tick_overruns_total ${o.overruns}`,
    `game_server_messages_received_total{type="move",transport="ws"} ${o.received}`,
    `game_server_messages_rejected_total{reason="rate_limited"} ${o.rejected}`,
    `game_server_disconnects_total{transport="ws",reason="lost"} ${o.lost}`,
    `game_server_disconnects_total{transport="ws",reason="left"} ${o.left}`,
  ];
  return `${lines.join('\n')}\n`;
}

const base = { players: 10, acks: 0, ackMs: 20, ticks: 0, overruns: 0, received: 0, rejected: 0, lost: 0, left: 0 };
const snap = (at: number, pods: { name: string; track: string; restarts?: number; ready?: boolean; m: typeof base | null }[]): Snapshot => ({
  at: new Date(at),
  pods: pods.map((p) => ({ name: p.name, track: p.track, ready: p.ready ?? true, restarts: p.restarts ?? 0 })),
  samples: new Map(pods.map((p) => [p.name, p.m ? { samples: parseMetrics(exposition(p.m)) } : { error: 'unreachable' }])),
});

describe('what a track did in a window', () => {
  const before = snap(0, [
    { name: 'stable-1', track: 'stable', m: { ...base, acks: 100, ticks: 100, received: 500, left: 1 } },
    { name: 'canary-1', track: 'canary', m: { ...base, acks: 50, ackMs: 60, ticks: 100, received: 100 } },
  ]);
  const after = snap(60_000, [
    { name: 'stable-1', track: 'stable', m: { ...base, players: 40, acks: 1100, ticks: 1300, overruns: 0, received: 5500, rejected: 5, left: 3 } },
    { name: 'canary-1', track: 'canary', restarts: 1, m: { ...base, players: 12, acks: 650, ackMs: 60, ticks: 1300, overruns: 12, received: 1100, lost: 2 } },
  ]);

  it('counts only what happened inside the window, per track', () => {
    expect(trackStats('stable', before, after)).toMatchObject({ pods: 1, readyPods: 1, restarts: 0, players: 40, ackSamples: 1000, ticks: 1200, tickOverruns: 0, messagesIn: 5000, rejected: 5, unexpectedDisconnects: 0 });
    const canary = trackStats('canary', before, after);
    expect(canary).toMatchObject({ restarts: 1, players: 12, ackSamples: 600, tickOverruns: 12, messagesIn: 1000, unexpectedDisconnects: 2 });
    expect(canary.ackP95Ms).toBeGreaterThan(50);
    expect(canary.ackP95Ms).toBeLessThanOrEqual(75);
    expect(canary.ackByTransport.ws?.samples).toBe(600);
    expect(canary.ackByTransport.udp).toEqual({ p95Ms: null, samples: 0 });
    expect(canary.tickP99Ms).toBeGreaterThan(2.5);
    expect(canary.tickP99Ms).toBeLessThanOrEqual(5);
  });

  it('starts a pod that restarted during the window from zero, not from a negative difference', () => {
    const restarted = snap(60_000, [{ name: 'stable-1', track: 'stable', restarts: 1, m: { ...base, acks: 30, ticks: 40, received: 90 } }]);
    expect(trackStats('stable', before, restarted)).toMatchObject({ restarts: 1, ackSamples: 30, ticks: 40, messagesIn: 90 });
  });

  it('shows players per pod, and no number for a pod whose metrics could not be read', () => {
    const s = snap(0, [{ name: 'a', track: 'stable', m: { ...base, players: 7 } }, { name: 'b', track: 'stable', m: null }]);
    expect([...playersByPod(s)]).toEqual([['a', 7], ['b', null]]);
  });
});
