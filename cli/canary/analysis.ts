/**
 * The canary's judgement, as pure functions over what each track did in one window: is the canary
 * as good for players as the stable version? Game SLOs, not HTTP ones — move→ack latency (per
 * transport where both are in use), tick time and overruns, rejected messages, unexpected
 * disconnects, restarts and readiness — against absolute limits and against stable. A window
 * without enough players or samples is never judged healthy: it is inconclusive.
 */

/** What one track (all its pods) did during one analysis window. */
export interface TrackStats {
  readonly pods: number;
  readonly readyPods: number;
  /** Container restarts during the window. */
  readonly restarts: number;
  /** Players connected at the end of the window. */
  readonly players: number;
  /** move→ack latency p95 over the window, all transports; null without samples. */
  readonly ackP95Ms: number | null;
  readonly ackSamples: number;
  /** The same per transport (`ws`, `udp`). */
  readonly ackByTransport: Readonly<Record<string, { readonly p95Ms: number | null; readonly samples: number }>>;
  /** Tick duration p99 over the window; null without ticks. */
  readonly tickP99Ms: number | null;
  readonly ticks: number;
  readonly tickOverruns: number;
  readonly messagesIn: number;
  readonly rejected: number;
  /** Disconnects the player did not ask for (errors, timeouts), during the window. */
  readonly unexpectedDisconnects: number;
}

/** The limits a canary is held to. Defaults: CANARY_DEFAULTS (documented in docs/cli.md). */
export interface CanaryPolicy {
  /** Absolute limit of the canary's move→ack p95 (the product's target: 100 ms). */
  readonly maxP95Ms: number;
  /** Relative limit: canary p95 ≤ max(stable p95 × p95Factor, stable p95 + p95SlackMs). */
  readonly p95Factor: number;
  readonly p95SlackMs: number;
  /** Tick p99 limit (default: the tick interval, 50 ms at 20 ticks/s). */
  readonly maxTickP99Ms: number;
  /** Largest share of ticks that may overrun their interval. */
  readonly maxTickOverrunRatio: number;
  /** Largest share of inbound messages that may be rejected, and how much worse than stable. */
  readonly maxRejectedRatio: number;
  /** Largest share of the track's players that may drop unexpectedly in one window. */
  readonly maxDisconnectRatio: number;
  /** A window is judged only with at least this many canary players … */
  readonly minPlayers: number;
  /** … and this many move→ack samples on the canary. */
  readonly minSamples: number;
}

export const CANARY_DEFAULTS: CanaryPolicy = {
  maxP95Ms: 100,
  p95Factor: 1.2,
  p95SlackMs: 10,
  maxTickP99Ms: 50,
  maxTickOverrunRatio: 0.01,
  maxRejectedRatio: 0.01,
  maxDisconnectRatio: 0.02,
  minPlayers: 10,
  minSamples: 200,
};

export type Outcome = 'pass' | 'fail' | 'inconclusive';

/** One comparison, with its numbers. */
export interface Judgement {
  readonly metric: string;
  readonly canary: number | null;
  readonly stable: number | null;
  /** The limit the canary's number was held to. */
  readonly limit: number | null;
  readonly outcome: Outcome;
  readonly why: string;
}

export interface StepVerdict {
  readonly outcome: Outcome;
  readonly judgements: readonly Judgement[];
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** Judges one window. Any failure fails it; otherwise any inconclusive part makes it inconclusive. */
export function judgeStep(canary: TrackStats, stable: TrackStats, policy: CanaryPolicy = CANARY_DEFAULTS): StepVerdict {
  const j: Judgement[] = [];

  // Readiness and restarts are facts, whatever the load.
  const notReady = canary.pods - canary.readyPods;
  j.push({ metric: 'ready pods', canary: canary.readyPods, stable: stable.readyPods, limit: canary.pods, outcome: notReady > 0 ? 'fail' : 'pass', why: notReady > 0 ? `${notReady} of ${canary.pods} canary pods not ready` : `all ${canary.pods} canary pods ready` });
  j.push({ metric: 'restarts', canary: canary.restarts, stable: stable.restarts, limit: 0, outcome: canary.restarts > 0 ? 'fail' : 'pass', why: canary.restarts > 0 ? `the canary restarted ${canary.restarts} times` : 'no restarts' });

  const enough = canary.players >= policy.minPlayers && canary.ackSamples >= policy.minSamples;
  if (!enough) {
    j.push({
      metric: 'load',
      canary: canary.players,
      stable: stable.players,
      limit: policy.minPlayers,
      outcome: 'inconclusive',
      why: `not enough to judge: ${canary.players} canary players (needs ${policy.minPlayers}) and ${canary.ackSamples} move→ack samples (needs ${policy.minSamples})`,
    });
  } else {
    j.push(latency('move→ack p95', canary.ackP95Ms, stable.ackP95Ms, policy));
    for (const [transport, c] of Object.entries(canary.ackByTransport)) {
      const s = stable.ackByTransport[transport];
      // A transport only judged where both tracks carry it with enough samples.
      if (!s || c.samples < policy.minSamples / 4 || s.samples < policy.minSamples / 4) continue;
      j.push(latency(`move→ack p95 (${transport})`, c.p95Ms, s.p95Ms, policy));
    }
    j.push(limitCheck('tick p99', canary.tickP99Ms, stable.tickP99Ms, policy.maxTickP99Ms, 'ms'));
    j.push(limitCheck('tick overruns', ratio(canary.tickOverruns, canary.ticks), ratio(stable.tickOverruns, stable.ticks), policy.maxTickOverrunRatio, 'share'));
    j.push(comparedRatio('rejected messages', ratio(canary.rejected, canary.messagesIn), ratio(stable.rejected, stable.messagesIn), policy.maxRejectedRatio));
    j.push(comparedRatio('unexpected disconnects', ratio(canary.unexpectedDisconnects, canary.players), ratio(stable.unexpectedDisconnects, stable.players), policy.maxDisconnectRatio));
  }
  const outcome: Outcome = j.some((x) => x.outcome === 'fail') ? 'fail' : j.some((x) => x.outcome === 'inconclusive') ? 'inconclusive' : 'pass';
  return { outcome, judgements: j };
}

/** Latency: under the absolute limit, and no worse than stable by more than the relative margin. */
function latency(metric: string, canary: number | null, stable: number | null, p: CanaryPolicy): Judgement {
  if (canary === null) return { metric, canary, stable, limit: null, outcome: 'inconclusive', why: 'no samples on the canary' };
  const relative = stable === null ? Infinity : Math.max(stable * p.p95Factor, stable + p.p95SlackMs);
  const limit = Math.min(p.maxP95Ms, relative);
  const ok = canary <= limit;
  const why = ok
    ? `${round(canary)} ms ≤ ${round(limit)} ms`
    : canary > p.maxP95Ms
      ? `${round(canary)} ms is above the ${p.maxP95Ms} ms limit`
      : `${round(canary)} ms is worse than stable's ${round(stable)} ms by more than ×${p.p95Factor} or +${p.p95SlackMs} ms (limit ${round(limit)} ms)`;
  return { metric, canary: round(canary), stable: round(stable), limit: round(limit), outcome: ok ? 'pass' : 'fail', why };
}

function limitCheck(metric: string, canary: number | null, stable: number | null, limit: number, unit: 'ms' | 'share'): Judgement {
  if (canary === null) return { metric, canary, stable, limit, outcome: 'inconclusive', why: 'no samples on the canary' };
  const show = (x: number) => (unit === 'ms' ? `${round(x)} ms` : `${(x * 100).toFixed(2)} %`);
  const ok = canary <= limit;
  return { metric, canary: unit === 'ms' ? round(canary) : canary, stable: unit === 'ms' ? round(stable) : stable, limit, outcome: ok ? 'pass' : 'fail', why: `${show(canary)} ${ok ? '≤' : '>'} ${show(limit)}` };
}

/** A rate: under the absolute limit, or — when stable is as bad — no worse than stable's plus the limit. */
function comparedRatio(metric: string, canary: number, stable: number, limit: number): Judgement {
  const effective = Math.max(limit, stable + limit);
  const ok = canary <= effective;
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  return { metric, canary, stable, limit: effective, outcome: ok ? 'pass' : 'fail', why: `${pct(canary)} ${ok ? '≤' : '>'} ${pct(effective)} (stable ${pct(stable)})` };
}

export type Decision = 'continue' | 'extend' | 'promote' | 'abort';

/**
 * What to do after a window: abort on a failure; promote once `steps` windows passed; an
 * inconclusive window is repeated (extended) up to `maxExtensions` times in all, then aborts — a
 * canary nobody played on is not promoted.
 */
export function decide(verdicts: readonly StepVerdict[], steps: number, maxExtensions: number): Decision {
  const last = verdicts.at(-1);
  if (!last) return 'continue';
  if (last.outcome === 'fail') return 'abort';
  const passed = verdicts.filter((v) => v.outcome === 'pass').length;
  const inconclusive = verdicts.filter((v) => v.outcome === 'inconclusive').length;
  if (passed >= steps) return 'promote';
  if (last.outcome === 'inconclusive') return inconclusive > maxExtensions ? 'abort' : 'extend';
  return 'continue';
}
