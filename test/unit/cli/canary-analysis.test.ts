import { describe, expect, it } from 'vitest';
import { CANARY_DEFAULTS, decide, judgeStep, type StepVerdict, type TrackStats } from '../../../cli/canary/analysis.ts';

const track = (over: Partial<TrackStats> = {}): TrackStats => ({
  pods: 1,
  readyPods: 1,
  restarts: 0,
  players: 50,
  ackP95Ms: 20,
  ackSamples: 3000,
  ackByTransport: { ws: { p95Ms: 20, samples: 3000 } },
  tickP99Ms: 8,
  ticks: 1200,
  tickOverruns: 0,
  messagesIn: 10_000,
  rejected: 2,
  unexpectedDisconnects: 0,
  ...over,
});

const failed = (v: StepVerdict) => v.judgements.filter((j) => j.outcome === 'fail').map((j) => j.metric);

describe('judging one canary window', () => {
  it.each([
    { name: 'a canary as good as stable passes', canary: {}, stable: {}, outcome: 'pass', fails: [] },
    { name: 'slower than stable by more than ×1.2 and +10 ms fails on move→ack', canary: { ackP95Ms: 45, ackByTransport: { ws: { p95Ms: 45, samples: 3000 } } }, stable: {}, outcome: 'fail', fails: ['move→ack p95', 'move→ack p95 (ws)'] },
    { name: 'slower, but inside stable + 10 ms, passes', canary: { ackP95Ms: 29 }, stable: {}, outcome: 'pass', fails: [] },
    { name: 'above the 100 ms target fails even when stable is as slow', canary: { ackP95Ms: 120 }, stable: { ackP95Ms: 115 }, outcome: 'fail', fails: ['move→ack p95'] },
    { name: 'a slow UDP path fails even when WebSocket is fine', canary: { ackByTransport: { ws: { p95Ms: 20, samples: 2000 }, udp: { p95Ms: 70, samples: 1000 } } }, stable: { ackByTransport: { ws: { p95Ms: 20, samples: 2000 }, udp: { p95Ms: 22, samples: 1000 } } }, outcome: 'fail', fails: ['move→ack p95 (udp)'] },
    { name: 'ticks over their interval fail', canary: { tickP99Ms: 61, tickOverruns: 40 }, stable: {}, outcome: 'fail', fails: ['tick p99', 'tick overruns'] },
    { name: 'rejecting messages stable accepts fails', canary: { rejected: 400 }, stable: {}, outcome: 'fail', fails: ['rejected messages'] },
    { name: 'players dropping unexpectedly fail', canary: { unexpectedDisconnects: 5 }, stable: {}, outcome: 'fail', fails: ['unexpected disconnects'] },
    { name: 'a restart fails at once, whatever the load', canary: { restarts: 1, players: 0, ackSamples: 0 }, stable: {}, outcome: 'fail', fails: ['restarts'] },
    { name: 'a pod not ready fails', canary: { readyPods: 0 }, stable: {}, outcome: 'fail', fails: ['ready pods'] },
    { name: 'too few players is inconclusive, never a pass', canary: { players: 3 }, stable: {}, outcome: 'inconclusive', fails: [] },
    { name: 'too few samples is inconclusive', canary: { ackSamples: 50 }, stable: {}, outcome: 'inconclusive', fails: [] },
  ] as { name: string; canary: Partial<TrackStats>; stable: Partial<TrackStats>; outcome: string; fails: string[] }[])('$name', ({ canary, stable, outcome, fails }) => {
    const v = judgeStep(track(canary), track(stable));
    expect(v.outcome).toBe(outcome);
    expect(failed(v)).toEqual(fails);
  });

  it('says the numbers and the limit in each judgement', () => {
    const v = judgeStep(track({ ackP95Ms: 45 }), track(), CANARY_DEFAULTS);
    expect(v.judgements.find((j) => j.metric === 'move→ack p95')).toEqual({
      metric: 'move→ack p95',
      canary: 45,
      stable: 20,
      limit: 30,
      outcome: 'fail',
      why: "45 ms is worse than stable's 20 ms by more than ×1.2 or +10 ms (limit 30 ms)",
    });
  });
});

describe('deciding after each window', () => {
  const pass: StepVerdict = { outcome: 'pass', judgements: [] };
  const fail: StepVerdict = { outcome: 'fail', judgements: [] };
  const unsure: StepVerdict = { outcome: 'inconclusive', judgements: [] };
  it.each([
    { verdicts: [pass], decision: 'continue' },
    { verdicts: [pass, pass, pass], decision: 'promote' },
    { verdicts: [pass, fail], decision: 'abort' },
    { verdicts: [unsure], decision: 'extend' },
    { verdicts: [unsure, pass, unsure, pass, pass], decision: 'promote' },
    { verdicts: [unsure, unsure, unsure], decision: 'abort' },
  ] as { verdicts: StepVerdict[]; decision: string }[])('$decision after $verdicts.length windows', ({ verdicts, decision }) => {
    expect(decide(verdicts, 3, 2)).toBe(decision);
  });
});
