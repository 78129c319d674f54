/**
 * Reading the game server's /metrics: a small parser for the Prometheus text format (enough for what
 * prom-client writes) and `histogram_quantile` over the difference of two scrapes, so a quantile
 * covers exactly the measurement window.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Thrown when a line of the exposition cannot be read; names the line. */
export class MetricsFormatError extends Error {
  override name = 'MetricsFormatError';
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

/** Parses the text exposition format; comments and blank lines are skipped. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new MetricsFormatError(`metrics line ${n + 1}: cannot parse ${JSON.stringify(line.slice(0, 120))}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (!l) {
        throw new MetricsFormatError(
          `metrics line ${n + 1}: bad label set near ${JSON.stringify(body.slice(start, start + 40))}`,
        );
      }
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') {
      throw new MetricsFormatError(`metrics line ${n + 1}: value ${JSON.stringify(raw)} is not a number`);
    }
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Cumulative bucket counts of one histogram, summed over every label set but `le`. */
export interface Buckets {
  /** Upper bounds, ascending, ending with Infinity. */
  readonly le: number[];
  readonly cumulative: number[];
  readonly count: number;
  readonly sum: number;
}

/**
 * The buckets of histogram `name` summed across label sets (optionally only those matching
 * `match`). Undefined when the metric is absent.
 */
export function histogramBuckets(
  samples: readonly Sample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): Buckets | undefined {
  const byLe = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let found = false;
  const ok = (s: Sample) => Object.entries(match).every(([k, v]) => s.labels[k] === v);
  for (const s of samples) {
    if (s.name === `${name}_bucket` && ok(s)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
      found = true;
    } else if (s.name === `${name}_count` && ok(s)) {
      count += s.value;
    } else if (s.name === `${name}_sum` && ok(s)) {
      sum += s.value;
    }
  }
  if (!found) return undefined;
  const le = [...byLe.keys()].sort((a, b) => a - b);
  return { le, cumulative: le.map((b) => byLe.get(b)!), count, sum };
}

/** `after - before` bucket by bucket (a counter reset makes `before` count as zero). */
export function bucketsDelta(after: Buckets, before: Buckets | undefined): Buckets {
  if (!before || before.count > after.count) return after;
  const prev = new Map(before.le.map((b, i) => [b, before.cumulative[i]!]));
  return {
    le: after.le,
    cumulative: after.cumulative.map((c, i) => c - (prev.get(after.le[i]!) ?? 0)),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. Returns
 * NaN for an empty histogram; a rank in the +Inf bucket returns the highest finite bound.
 */
export function histogramQuantile(q: number, b: Buckets): number {
  const total = b.cumulative[b.cumulative.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < b.le.length; i++) {
    const c = b.cumulative[i]!;
    if (c >= rank) {
      const upper = b.le[i]!;
      if (upper === Infinity) return b.le[i - 1] ?? Number.NaN;
      const lower = i === 0 ? 0 : b.le[i - 1]!;
      const below = i === 0 ? 0 : b.cumulative[i - 1]!;
      const inBucket = c - below;
      return inBucket === 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
    }
  }
  return b.le[b.le.length - 2] ?? Number.NaN;
}

/** Fraction of observations at or below `bound` (which should be a bucket edge to be exact). */
export function fractionAtOrBelow(bound: number, b: Buckets): number {
  const total = b.cumulative[b.cumulative.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  let at = 0;
  for (let i = 0; i < b.le.length; i++) if (b.le[i]! <= bound) at = b.cumulative[i]!;
  return at / total;
}

/** Sum of every sample of `name` matching `match`. */
export function sumOf(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): number {
  let v = 0;
  for (const s of samples) {
    if (s.name === name && Object.entries(match).every(([k, x]) => s.labels[k] === x)) v += s.value;
  }
  return v;
}
