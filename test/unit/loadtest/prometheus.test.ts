import { describe, expect, it } from 'vitest';
import {
  MetricsFormatError,
  bucketsDelta,
  fractionAtOrBelow,
  histogramBuckets,
  histogramQuantile,
  parseMetrics,
  sumOf,
} from '../../../client/loadtest/prometheus.ts';

const TEXT = `# HELP game_server_tick_duration_seconds Time spent simulating one tick.
# TYPE game_server_tick_duration_seconds histogram
game_server_tick_duration_seconds_bucket{le="0.005"} 50
game_server_tick_duration_seconds_bucket{le="0.01"} 90
game_server_tick_duration_seconds_bucket{le="0.025"} 99
game_server_tick_duration_seconds_bucket{le="0.05"} 100
game_server_tick_duration_seconds_bucket{le="+Inf"} 100
game_server_tick_duration_seconds_sum 0.6
game_server_tick_duration_seconds_count 100
game_server_active_players{zone="0",transport="ws"} 3
game_server_active_players{zone="1",transport="udp"} 2
game_server_build_info{version="0.1.0",protocol="1",node="v24.21.0 \\"x\\""} 1 1700000000000
`;

describe('metrics parsing', () => {
  it('reads samples with labels, escapes and timestamps', () => {
    const s = parseMetrics(TEXT);
    expect(s).toHaveLength(10);
    expect(sumOf(s, 'game_server_active_players')).toBe(5);
    expect(sumOf(s, 'game_server_active_players', { transport: 'udp' })).toBe(2);
    expect(s.at(-1)!.labels.node).toBe('v24.21.0 "x"');
  });

  it('names the line it cannot read', () => {
    expect(() => parseMetrics('ok 1\nnot a metric line\n')).toThrow(MetricsFormatError);
    expect(() => parseMetrics('ok 1\nnot a metric line\n')).toThrow(/line 2/);
    expect(() => parseMetrics('x{a="1",b=2} 1')).toThrow(/label/);
  });
});

describe('histogram quantile', () => {
  const b = histogramBuckets(parseMetrics(TEXT), 'game_server_tick_duration_seconds')!;

  it('interpolates inside the bucket like Prometheus', () => {
    expect(b.count).toBe(100);
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.005, 9);
    expect(histogramQuantile(0.7, b)).toBeCloseTo(0.0075, 9);
    expect(histogramQuantile(0.99, b)).toBeCloseTo(0.025, 9);
    expect(histogramQuantile(0.995, b)).toBeCloseTo(0.0375, 9);
    expect(fractionAtOrBelow(0.025, b)).toBeCloseTo(0.99, 9);
  });

  it('covers only the window between two scrapes', () => {
    const later = parseMetrics(
      TEXT.replace('le="0.005"} 50', 'le="0.005"} 150')
        .replace('le="0.01"} 90', 'le="0.01"} 190')
        .replace('le="0.025"} 99', 'le="0.025"} 199')
        .replace('le="0.05"} 100', 'le="0.05"} 300')
        .replace('le="+Inf"} 100', 'le="+Inf"} 300')
        .replace('_count 100', '_count 300'),
    );
    const d = bucketsDelta(histogramBuckets(later, 'game_server_tick_duration_seconds')!, b);
    expect(d.count).toBe(200);
    expect(d.cumulative).toEqual([100, 100, 100, 200, 200]);
    expect(histogramQuantile(0.99, d)).toBeGreaterThan(0.025);
    expect(fractionAtOrBelow(0.025, d)).toBeCloseTo(0.5, 9);
  });

  it('is NaN with no observations and absent for an unknown metric', () => {
    expect(histogramQuantile(0.99, bucketsDelta(b, b))).toBeNaN();
    expect(histogramBuckets(parseMetrics(TEXT), 'nope')).toBeUndefined();
  });
});
