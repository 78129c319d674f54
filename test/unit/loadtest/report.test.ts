import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../client/loadtest/options.ts';
import { buildReport, formatTable, type ReportInput } from '../../../client/loadtest/report.ts';
import { BotStats, StatsTotals } from '../../../client/loadtest/stats.ts';
import { Histogram } from '../../../client/loadtest/histogram.ts';

function input(players: number, fill: (s: BotStats) => void): ReportInput {
  const stats = new BotStats();
  fill(stats);
  const d = stats.take({ lag: new Histogram(), skippedSlots: 0, cpuMicros: 500_000, wallMs: 10_000 });
  const run = new StatsTotals();
  const window = new StatsTotals();
  run.add(d);
  window.add(d);
  return {
    options: parseOptions(['--url', 'ws://127.0.0.1:8080/ws', '--players', String(players)]),
    startedAt: new Date(0),
    windowS: 10,
    window,
    run,
    joinedAtEnd: d.joined,
    minJoinedInWindow: d.joined,
    acked: d.acked,
    server: null,
    serverError: 'not read',
    cpuMicros: 500_000,
  };
}

describe('load report', () => {
  it('adds up worker deltas into rates and percentiles', () => {
    const r = buildReport(
      input(2, (s) => {
        s.joined = 2;
        s.acked = 2;
        s.connectAttempts = 2;
        for (let i = 1; i <= 100; i++) {
          s.movesSent++;
          s.acks++;
          s.rtt.record(i * 1000); // 1..100 ms
          s.countSent('move');
          s.bytesOut += 21;
          s.countReceived('ack');
        }
        s.countReceived('snapshot');
        s.countError('cooldown');
      }),
    );
    expect(r.ccu).toEqual({ target: 2, atEnd: 2, minInWindow: 2, acked: 2 });
    expect(r.rtt.samples).toBe(100);
    // Within the histogram's 1/128 precision, never below the exact value.
    expect(r.rtt.p50Ms).toBeGreaterThanOrEqual(50);
    expect(r.rtt.p50Ms).toBeLessThan(50 * 1.008);
    expect(r.rtt.p99Ms).toBeGreaterThanOrEqual(99);
    expect(r.rtt.p99Ms).toBeLessThan(99 * 1.008);
    expect(r.messages.outPerS).toBe(10);
    expect(r.messages.inPerS).toBe(10.1);
    expect(r.messages.bytesOutPerS).toBe(210);
    expect(r.errors).toEqual({ total: 1, byCode: { cooldown: 1 } });
    expect(r.generator.cpuPercent).toBe(5);
    expect(r.check).toEqual({ passed: true, failures: [] });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(formatTable(r)).toMatch(/move→ack p50\/p95\/p99\s+50\.\d+ \/ 95\.\d+ \/ 99\.\d+ ms \(max 100/);
  });

  it('fails the check when a bot never joined or never got an ack', () => {
    const r = buildReport(
      input(3, (s) => {
        s.joined = 2;
        s.acked = 1;
        s.connectAttempts = 3;
        s.connectFailures = 1;
        s.acks = 1;
      }),
    );
    expect(r.check.passed).toBe(false);
    expect(r.check.failures).toEqual([
      '2 of 3 bots were joined at the end',
      '1 connect attempt(s) failed',
      '1 of 3 bots got a move acknowledged',
    ]);
    expect(formatTable(r)).toMatch(/check\s+FAILED: 2 of 3 bots were joined/);
  });
});
