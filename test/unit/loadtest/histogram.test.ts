import { describe, expect, it } from 'vitest';
import { BUCKET_COUNT, Histogram, MAX_VALUE, bucketHigh, bucketIndex, bucketLow } from '../../../client/loadtest/histogram.ts';

describe('histogram buckets', () => {
  it('keep values below 128 exactly', () => {
    for (let v = 0; v < 128; v++) {
      expect(bucketLow(bucketIndex(v))).toBe(v);
      expect(bucketHigh(bucketIndex(v))).toBe(v);
    }
  });

  it('put every value inside its bucket, within 1/128 of it', () => {
    const values = [128, 129, 255, 256, 1000, 4095, 4096, 65_537, 1_234_567, 99_999_999, MAX_VALUE];
    for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * MAX_VALUE));
    for (const v of values) {
      const i = bucketIndex(v);
      expect(i).toBeLessThan(BUCKET_COUNT);
      expect(bucketLow(i)).toBeLessThanOrEqual(v);
      expect(bucketHigh(i)).toBeGreaterThanOrEqual(v);
      expect((bucketHigh(i) - bucketLow(i)) / v).toBeLessThan(1 / 128);
    }
  });

  it('are contiguous and ascending', () => {
    for (let i = 1; i < BUCKET_COUNT; i++) expect(bucketLow(i)).toBe(bucketHigh(i - 1) + 1);
    expect(bucketHigh(BUCKET_COUNT - 1)).toBe(MAX_VALUE);
  });
});

describe('histogram quantiles', () => {
  it('match the exact quantiles of a known distribution within the bucket precision', () => {
    const h = new Histogram();
    const all: number[] = [];
    let x = 12345;
    for (let i = 0; i < 50_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31; // deterministic pseudo-random values
      const v = 200 + (x % 80_000) * ((x >> 8) % 3 === 0 ? 5 : 1);
      h.record(v);
      all.push(v);
    }
    all.sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
      const exact = all[Math.ceil(q * all.length) - 1]!;
      const got = h.quantile(q);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect((got - exact) / exact).toBeLessThan(1 / 128);
    }
    expect(h.count).toBe(50_000);
    expect(h.min).toBe(all[0]);
    expect(h.max).toBe(all[all.length - 1]);
    expect(h.mean()).toBeCloseTo(all.reduce((a, b) => a + b, 0) / all.length, 6);
  });

  it('answer 0 when empty and the only value when there is one', () => {
    const h = new Histogram();
    expect(h.quantile(0.99)).toBe(0);
    h.record(4242.4);
    expect(h.quantile(0)).toBe(4242);
    expect(h.quantile(0.5)).toBe(4242);
    expect(h.quantile(1)).toBe(4242);
  });

  it('clamp values out of range and count them', () => {
    const h = new Histogram();
    h.record(-5);
    h.record(Number.NaN);
    h.record(MAX_VALUE * 4);
    expect(h.clamped).toBe(3);
    expect(h.count).toBe(3);
    expect(h.quantile(1)).toBe(MAX_VALUE);
    expect(h.quantile(0.5)).toBe(0);
  });

  it('merge to the same result as recording everything in one', () => {
    const a = new Histogram();
    const b = new Histogram();
    const both = new Histogram();
    for (let i = 1; i <= 10_000; i++) {
      (i % 3 === 0 ? a : b).record(i * 7);
      both.record(i * 7);
    }
    const merged = Histogram.from(a.toData());
    merged.merge(structuredClone(b.toData())); // as it crosses a worker boundary
    expect(merged.count).toBe(both.count);
    expect(merged.min).toBe(both.min);
    expect(merged.max).toBe(both.max);
    for (const q of [0.5, 0.95, 0.99]) expect(merged.quantile(q)).toBe(both.quantile(q));
    merged.reset();
    expect(merged.count).toBe(0);
    expect(merged.quantile(0.5)).toBe(0);
  });

  it('use the same memory however many samples it holds', () => {
    const h = new Histogram();
    const before = h.counts.byteLength;
    for (let i = 0; i < 200_000; i++) h.record(i);
    expect(h.counts.byteLength).toBe(before);
  });
});
