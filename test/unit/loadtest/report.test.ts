import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../client/loadtest/options.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_IDS, buildReport, formatTable, type ReportInput } from '../../../client/loadtest/report.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/root.ts';
import { BotStats, StatsTotals } from '../../../client/loadtest/stats.ts';
import { Histogram } from '../../../client/loadtest/histogram.ts';

function input(players: number, fill: (s: BotStats) => void, flags: string[] = [], lag: { lag?: Histogram; skippedSlots?: number } = {}): ReportInput {
  const stats = new BotStats();
  fill(stats);
  const d = stats.take({ lag: lag.lag ?? new Histogram(), skippedSlots: lag.skippedSlots ?? 0, cpuMicros: 500_000, wallMs: 10_000 });
  const run = new StatsTotals();
  const window = new StatsTotals();
  run.add(d);
  window.add(d);
  return {
    options: parseOptions(['--url', 'ws://127.0.0.1:8080/ws', '--players', String(players), ...flags]),
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
    expect(r.check).toEqual({ passed: true, failures: [], limits: { rttP95Ms: null, errors: ['internal', 'unavailable'], keptUp: false, metrics: false } });
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
      { id: 'joined', message: '2 of 3 bots were joined at the end' },
      { id: 'connects', message: '1 connect attempt(s) failed' },
      { id: 'acked', message: '1 of 3 bots got a move acknowledged' },
    ]);
    expect(formatTable(r)).toMatch(/check\s+FAILED: joined: 2 of 3 bots were joined at the end; connects: /);
  });
});

/** Two healthy bots whose window holds `rttMs` round trips and the given error codes. */
function healthy(rttMs: number[], errors: Record<string, number> = {}) {
  return (s: BotStats) => {
    s.joined = 2;
    s.acked = 2;
    s.connectAttempts = 2;
    for (const ms of rttMs) {
      s.movesSent++;
      s.acks++;
      s.rtt.record(ms * 1000);
    }
    for (const [code, n] of Object.entries(errors)) for (let k = 0; k < n; k++) s.countError(code);
  };
}

const failed = (r: ReturnType<typeof buildReport>) => r.check.failures.map((f) => f.id);

describe('the --check limits', () => {
  const slow = Array.from({ length: 100 }, (_, i) => (i < 90 ? 5 : 200)); // p95 200 ms

  it('fail on a move→ack p95 above --check-rtt-p95, naming the figure and the limit', () => {
    const r = buildReport(input(2, healthy(slow), ['--check-rtt-p95', '150']));
    expect(r.check.passed).toBe(false);
    expect(r.check.failures).toEqual([{ id: 'rtt_p95', message: expect.stringMatching(/^move→ack p95 was 20\d(\.\d+)? ms, above the limit of 150 ms$/) }]);
    expect(r.check.limits.rttP95Ms).toBe(150);
    expect(formatTable(r)).toMatch(/check\s+FAILED: rtt_p95: move→ack p95 was/);
    expect(buildReport(input(2, healthy(slow), ['--check-rtt-p95', '250'])).check.passed).toBe(true);
    // Without the flag there is no limit.
    expect(buildReport(input(2, healthy(slow))).check.passed).toBe(true);
  });

  it("fail on the server's own faults by default (internal, unavailable), on the codes asked for, or on none", () => {
    const errs = { unavailable: 2, cooldown: 7 };
    const byDefault = buildReport(input(2, healthy([5], errs)));
    expect(byDefault.check.failures).toEqual([{ id: 'errors', message: 'the server answered with unavailable ×2' }]);
    expect(formatTable(byDefault)).toMatch(/check\s+FAILED: errors: the server answered with unavailable ×2/);
    expect(buildReport(input(2, healthy([5], { cooldown: 7 }))).check.passed).toBe(true);
    expect(failed(buildReport(input(2, healthy([5], errs), ['--check-errors', 'cooldown,internal'])))).toEqual(['errors']);
    expect(buildReport(input(2, healthy([5], errs), ['--check-errors', 'none'])).check.passed).toBe(true);
  });

  it('fail when the generator fell behind, with --check-kept-up', () => {
    const lag = new Histogram();
    for (let i = 0; i < 100; i++) lag.record(50_000); // 50 ms late, every slot
    const late = () => input(2, healthy([5]), ['--check-kept-up'], { lag });
    const r = buildReport(late());
    expect(r.generator.keptUp).toBe(false);
    expect(r.check.failures).toEqual([{ id: 'kept_up', message: expect.stringMatching(/^the generator fell behind \(lag p99 5\d(\.\d+)? ms, 0 skipped turns\)/) }]);
    expect(failed(buildReport(input(2, healthy([5]), ['--check-kept-up'], { skippedSlots: 3 })))).toEqual(['kept_up']);
    // Reported either way; only the flag makes it fail the check.
    expect(buildReport(input(2, healthy([5]), [], { lag })).check.passed).toBe(true);
  });

  it('fail when /metrics could not be read, with --check-metrics', () => {
    const unread = { ...input(2, healthy([5]), ['--check-metrics']), serverError: 'GET http://127.0.0.1:9/metrics: fetch failed' };
    const r = buildReport(unread);
    expect(r.check.failures).toEqual([{ id: 'metrics', message: "the server's metrics could not be read: GET http://127.0.0.1:9/metrics: fetch failed" }]);
    expect(buildReport({ ...unread, options: parseOptions(['--url', 'ws://127.0.0.1:8080/ws', '--players', '2']) }).check.passed).toBe(true);
    expect(buildReport({ ...unread, serverError: null }).check.passed).toBe(true);
  });

  it('name every failure at once, in a fixed order', () => {
    const lag = new Histogram();
    lag.record(90_000);
    const r = buildReport({
      ...input(3, healthy(slow, { internal: 1 }), ['--check-rtt-p95', '100', '--check-kept-up', '--check-metrics'], { lag }),
      serverError: 'HTTP 503',
    });
    expect(failed(r)).toEqual(['started', 'joined', 'acked', 'rtt_p95', 'errors', 'kept_up', 'metrics']);
  });
});

describe('the report as documented (docs/testing.md)', () => {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'testing.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## The load generator and its check'), doc.indexOf('## The Kubernetes rig'));

  it('describes every top-level key of the JSON and every check id', () => {
    expect(section.length).toBeGreaterThan(1000);
    const r = buildReport(input(2, healthy([5])));
    const keys = Object.keys(r);
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((k) => !section.includes(`\`${k}\``))).toEqual([]);
    expect(CHECK_IDS.filter((id) => !new RegExp(`^\\| \`${id}\` \\|`, 'm').test(section))).toEqual([]);
    expect(section).toContain(`\`version\` ${r.version}`);
  });
});
