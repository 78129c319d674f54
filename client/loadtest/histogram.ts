/**
 * A log-linear histogram in the HdrHistogram style: fixed memory whatever the number of samples,
 * values kept to within 1/128 (< 0.8 %) of what was recorded, exact below 128. It records
 * non-negative integers (the load generator records microseconds) up to MAX_VALUE; larger values
 * are clamped to MAX_VALUE and counted in `clamped`.
 *
 * Layout: values below SUB are their own bucket; each octave [2^m, 2^(m+1)) above that is split into
 * SUB buckets of width 2^(m-K). Workers send `counts` to the main thread, which merges them.
 */

const K = 7;
const SUB = 1 << K; // 128 buckets per octave
/** Largest value kept exactly in range (2^31 - 1 µs is about 35 minutes). */
export const MAX_VALUE = 0x7fffffff;
const MAX_MSB = 30;
/** Number of buckets a histogram holds. */
export const BUCKET_COUNT = (MAX_MSB - K + 2) * SUB;

/** Index of the bucket holding `v` (an integer in [0, MAX_VALUE]). */
export function bucketIndex(v: number): number {
  if (v < SUB) return v;
  const msb = 31 - Math.clz32(v);
  const shift = msb - K;
  return shift * SUB + (v >>> shift);
}

/** Smallest value that lands in bucket `i`. */
export function bucketLow(i: number): number {
  if (i < SUB) return i;
  const shift = Math.floor(i / SUB) - 1;
  return (i - shift * SUB) * 2 ** shift;
}

/** Largest value that lands in bucket `i`. */
export function bucketHigh(i: number): number {
  if (i < SUB) return i;
  const shift = Math.floor(i / SUB) - 1;
  return bucketLow(i) + 2 ** shift - 1;
}

/** Plain-data form, for postMessage between threads and for JSON reports. */
export interface HistogramData {
  readonly counts: Float64Array;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly clamped: number;
}

export class Histogram {
  counts = new Float64Array(BUCKET_COUNT);
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  sum = 0;
  /** Samples above MAX_VALUE (recorded as MAX_VALUE) or below 0 (recorded as 0). */
  clamped = 0;

  /** Adds one sample; non-integers are rounded, out-of-range values clamped. */
  record(value: number): void {
    let v = Math.round(value);
    if (!(v >= 0)) {
      v = 0; // also catches NaN
      this.clamped++;
    } else if (v > MAX_VALUE) {
      v = MAX_VALUE;
      this.clamped++;
    }
    this.counts[bucketIndex(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /**
   * The value at quantile `q` (0..1): the upper edge of the bucket holding the ceil(q·count)-th
   * smallest sample, never above the largest sample seen. 0 when empty.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketHigh(i)));
    }
    return this.max;
  }

  /** Mean of the recorded (clamped) samples; 0 when empty. */
  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: HistogramData): void {
    if (other.count === 0) return;
    const c = this.counts;
    const o = other.counts;
    for (let i = 0; i < BUCKET_COUNT; i++) c[i]! += o[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.clamped += other.clamped;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** Forgets every sample. */
  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
    this.sum = 0;
    this.clamped = 0;
  }

  /** A copy of the state (the counts array is copied, so this histogram may keep recording). */
  toData(): HistogramData {
    return {
      counts: this.counts.slice(),
      count: this.count,
      min: this.min,
      max: this.max,
      sum: this.sum,
      clamped: this.clamped,
    };
  }

  /** A histogram holding the samples described by `data`. */
  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }
}
