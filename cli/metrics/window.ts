/**
 * What each track of game servers did between two snapshots of their metrics: the numbers the
 * canary is judged on and `status` shows. Pure: snapshots and pod states in, TrackStats out.
 */
import { DISCONNECT_REASONS, METRICS } from '../../contract/metrics.ts';
import { TRANSPORTS } from '../../contract/ports.ts';
import { bucketsDelta, histogramBuckets, histogramQuantile, sumOf, type Buckets, type Sample } from '../../client/loadtest/prometheus.ts';
import type { TrackStats } from '../canary/analysis.ts';
import type { PodSamples } from './source.ts';

/** A game server pod as the window sees it. */
export interface PodState {
  readonly name: string;
  readonly track: string;
  readonly ready: boolean;
  /** Restarts of its game server container so far. */
  readonly restarts: number;
}

/** A moment: the pods then, and their samples. */
export interface Snapshot {
  readonly at: Date;
  readonly pods: readonly PodState[];
  readonly samples: ReadonlyMap<string, PodSamples>;
}

const samplesOf = (s: Snapshot, pod: string): readonly Sample[] => {
  const p = s.samples.get(pod);
  return p && 'samples' in p ? p.samples : [];
};

function sumBuckets(list: (Buckets | undefined)[]): Buckets | undefined {
  const present = list.filter((b): b is Buckets => Boolean(b));
  if (!present.length) return undefined;
  const le = present[0]!.le;
  return {
    le,
    cumulative: le.map((_, i) => present.reduce((a, b) => a + (b.cumulative[i] ?? 0), 0)),
    count: present.reduce((a, b) => a + b.count, 0),
    sum: present.reduce((a, b) => a + b.sum, 0),
  };
}

/** A counter's increase on one pod between the snapshots (a restart counts from zero). */
function increase(before: readonly Sample[], after: readonly Sample[], name: string, match: Record<string, string> = {}): number {
  const a = sumOf(after, name, match);
  const b = sumOf(before, name, match);
  return a >= b ? a - b : a;
}

/** The histogram's observations on one pod between the snapshots. */
function windowBuckets(before: readonly Sample[], after: readonly Sample[], name: string, match: Record<string, string> = {}): Buckets | undefined {
  const a = histogramBuckets(after, name, match);
  return a ? bucketsDelta(a, histogramBuckets(before, name, match)) : undefined;
}

const ms = (seconds: number) => (Number.isFinite(seconds) ? seconds * 1000 : null);

/** What the pods of `track` did from `before` to `after`. */
export function trackStats(track: string, before: Snapshot, after: Snapshot): TrackStats {
  const pods = after.pods.filter((p) => p.track === track);
  const restartsBefore = new Map(before.pods.map((p) => [p.name, p.restarts]));
  const perPod = pods.map((p) => ({ pod: p, before: samplesOf(before, p.name), after: samplesOf(after, p.name) }));
  const ack = sumBuckets(perPod.map((x) => windowBuckets(x.before, x.after, METRICS.inputAckLatency.name)));
  const tick = sumBuckets(perPod.map((x) => windowBuckets(x.before, x.after, METRICS.tickDuration.name)));
  const ackByTransport = Object.fromEntries(
    TRANSPORTS.map((t) => {
      const b = sumBuckets(perPod.map((x) => windowBuckets(x.before, x.after, METRICS.inputAckLatency.name, { transport: t })));
      return [t, { p95Ms: b && b.count > 0 ? ms(histogramQuantile(0.95, b)) : null, samples: b?.count ?? 0 }];
    }),
  );
  const sum = (f: (x: (typeof perPod)[number]) => number) => perPod.reduce((a, x) => a + f(x), 0);
  const unexpected = DISCONNECT_REASONS.filter((r) => r !== 'left');
  return {
    pods: pods.length,
    readyPods: pods.filter((p) => p.ready).length,
    restarts: pods.reduce((a, p) => a + Math.max(0, p.restarts - (restartsBefore.get(p.name) ?? 0)), 0),
    players: sum((x) => sumOf(x.after, METRICS.activePlayers.name)),
    ackP95Ms: ack && ack.count > 0 ? ms(histogramQuantile(0.95, ack)) : null,
    ackSamples: ack?.count ?? 0,
    ackByTransport,
    tickP99Ms: tick && tick.count > 0 ? ms(histogramQuantile(0.99, tick)) : null,
    ticks: tick?.count ?? 0,
    tickOverruns: sum((x) => increase(x.before, x.after, METRICS.tickOverruns.name)),
    messagesIn: sum((x) => increase(x.before, x.after, METRICS.messagesIn.name)),
    rejected: sum((x) => increase(x.before, x.after, METRICS.messagesRejected.name)),
    unexpectedDisconnects: sum((x) => unexpected.reduce((a, reason) => a + increase(x.before, x.after, METRICS.disconnects.name, { reason }), 0)),
  };
}

/** Players connected to each pod at the snapshot (null where its metrics could not be read). */
export function playersByPod(s: Snapshot): Map<string, number | null> {
  return new Map(s.pods.map((p) => {
    const got = s.samples.get(p.name);
    return [p.name, got && 'samples' in got ? sumOf(got.samples, METRICS.activePlayers.name) : null];
  }));
}
