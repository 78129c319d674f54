/**
 * The load generator's result: a JSON shape (stable, versioned: scripts and the benchmark read it;
 * described in docs/testing.md) built from the measurement window's totals, and the table printed
 * for people.
 */
import type { Histogram } from './histogram.ts';
import type { LoadOptions } from './options.ts';
import type { CountTable, StatsTotals } from './stats.ts';

/** 2: `check.failures` became `{id, message}` objects and `check.limits` was added. */
export const REPORT_VERSION = 2;

/**
 * What a failed --check condition is called, in the table and the JSON, in the order failures are
 * listed. The first five are liveness and always apply; the others only when their limit is set
 * (see CheckLimits).
 */
export const CHECK_IDS = ['started', 'joined', 'connects', 'acked', 'window_acks', 'rtt_p95', 'errors', 'kept_up', 'metrics'] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface CheckFailure {
  readonly id: CheckId;
  /** One sentence with the numbers. */
  readonly message: string;
}

/** What the server's /metrics said about the window; null fields when a metric was absent. */
export interface ServerSide {
  /** 50th and 99th percentile of game_server_tick_duration_seconds over the window, ms. */
  readonly tickP50Ms: number | null;
  readonly tickP99Ms: number | null;
  /** Ticks observed in the window. */
  readonly ticks: number;
  /** Share of ticks that took at most 25 ms (25 ms is a bucket edge, so this is exact). */
  readonly ticksWithin25ms: number | null;
  readonly tickOverruns: number | null;
  /** game_server_active_players summed, at the end of the window. */
  readonly activePlayers: number | null;
  /** game_server_messages_rejected_total increase over the window. */
  readonly rejected: number | null;
  /** CPU the server process used over the window, % of one core (only with --server-pid). */
  readonly cpuPercent: number | null;
  /** The part of cpuPercent spent in the kernel (socket reads and writes, mostly), % of one core. */
  readonly systemPercent: number | null;
  /**
   * Time its threads were runnable but waiting for a CPU, % of the window (Linux, --server-pid):
   * above a few % the machine, not the server, limited it.
   */
  readonly waitPercent: number | null;
  /**
   * CPU of the server's threads over the window by thread name, % of one core (Linux,
   * --server-pid): the main thread ("node"), libuv's pool, V8's helpers, native libraries' own.
   */
  readonly threads: Readonly<Record<string, number>> | null;
}

export interface LoadReport {
  readonly version: number;
  readonly startedAt: string;
  readonly config: {
    readonly url: string;
    readonly transport: string;
    readonly players: number;
    readonly durationS: number;
    readonly rampS: number;
    readonly workers: number;
    readonly scenario: LoadOptions['scenario'];
    readonly chatChannel: string;
  };
  /** Length of the measurement window (after the ramp and connects settled), seconds. */
  readonly windowS: number;
  readonly ccu: {
    readonly target: number;
    /** Bots joined when the window closed. */
    readonly atEnd: number;
    readonly minInWindow: number;
    /** Bots that got at least one move acknowledged. */
    readonly acked: number;
  };
  readonly connect: {
    readonly attempts: number;
    readonly failures: number;
    /** Connections lost after joining. */
    readonly disconnects: number;
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly p99Ms: number;
  };
  /** Move → ack round trip over the window. */
  readonly rtt: {
    readonly samples: number;
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly meanMs: number;
  };
  readonly moves: { readonly sent: number; readonly acked: number };
  readonly messages: {
    readonly outPerS: number;
    readonly inPerS: number;
    readonly bytesOutPerS: number;
    readonly bytesInPerS: number;
    /** Server frames the bots received per second (one socket write or data-channel message each). */
    readonly framesInPerS: number;
    readonly out: CountTable;
    readonly in: CountTable;
  };
  readonly errors: { readonly total: number; readonly byCode: CountTable };
  /** Null when /metrics was not read (see serverError). */
  readonly server: ServerSide | null;
  readonly serverError: string | null;
  /** Whether the generator itself kept up: if not, the numbers above understate the server. */
  readonly generator: {
    /** CPU used by the generator process over the window, in % of one core. */
    readonly cpuPercent: number;
    readonly lagP99Ms: number;
    readonly lagMaxMs: number;
    readonly skippedSlots: number;
    /** Time the generator's threads waited for a CPU, % of the window (Linux); null elsewhere. */
    readonly waitPercent: number | null;
    readonly keptUp: boolean;
  };
  readonly check: {
    readonly passed: boolean;
    /** Every condition that failed, in the order of CHECK_IDS. */
    readonly failures: readonly CheckFailure[];
    /** The limits the run was judged by, beyond liveness. */
    readonly limits: {
      readonly rttP95Ms: number | null;
      readonly errors: readonly string[];
      readonly keptUp: boolean;
      readonly metrics: boolean;
    };
  };
}

const ms = (h: Histogram, q: number): number => round(h.quantile(q) / 1000);
const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

export interface ReportInput {
  readonly options: LoadOptions;
  readonly startedAt: Date;
  readonly windowS: number;
  readonly window: StatsTotals;
  /** Totals over the whole run (connect numbers cover the ramp, which precedes the window). */
  readonly run: StatsTotals;
  readonly joinedAtEnd: number;
  readonly minJoinedInWindow: number;
  readonly acked: number;
  readonly server: ServerSide | null;
  readonly serverError: string | null;
  /** Process CPU over the window, µs. */
  readonly cpuMicros: number;
  /** Run-queue wait of the generator's threads over the window, % of it; null when unknown. */
  readonly waitPercent?: number | null;
}

/** Builds the report and decides the --check verdict. */
export function buildReport(i: ReportInput): LoadReport {
  const o = i.options;
  const w = i.window;
  const secs = Math.max(i.windowS, 1e-9);
  const lagP99Ms = ms(w.lag, 0.99);
  const rttP95Ms = ms(w.rtt, 0.95);
  const keptUp = w.skippedSlots === 0 && lagP99Ms <= MAX_LAG_P99_MS;
  const failures = judge(i, rttP95Ms, lagP99Ms, keptUp);
  return {
    version: REPORT_VERSION,
    startedAt: i.startedAt.toISOString(),
    config: {
      url: o.serverUrl,
      transport: o.transport,
      players: o.players,
      durationS: o.durationS,
      rampS: o.rampS,
      workers: o.workers,
      scenario: o.scenario,
      chatChannel: o.chatChannel,
    },
    windowS: round(i.windowS, 3),
    ccu: { target: o.players, atEnd: i.joinedAtEnd, minInWindow: i.minJoinedInWindow, acked: i.acked },
    connect: {
      attempts: i.run.connectAttempts,
      failures: i.run.connectFailures,
      disconnects: i.run.disconnects,
      p50Ms: ms(i.run.connectTime, 0.5),
      p95Ms: ms(i.run.connectTime, 0.95),
      p99Ms: ms(i.run.connectTime, 0.99),
    },
    rtt: {
      samples: w.rtt.count,
      p50Ms: ms(w.rtt, 0.5),
      p95Ms: rttP95Ms,
      p99Ms: ms(w.rtt, 0.99),
      maxMs: round(w.rtt.max / 1000),
      meanMs: round(w.rtt.mean() / 1000),
    },
    moves: { sent: w.movesSent, acked: w.acks },
    messages: {
      outPerS: round(w.sentTotal() / secs, 1),
      inPerS: round(w.receivedTotal() / secs, 1),
      bytesOutPerS: Math.round(w.bytesOut / secs),
      bytesInPerS: Math.round(w.bytesIn / secs),
      framesInPerS: round(w.framesIn / secs, 1),
      out: w.sent,
      in: w.received,
    },
    errors: { total: i.run.errorTotal(), byCode: i.run.errors },
    server: i.server,
    serverError: i.serverError,
    generator: {
      cpuPercent: round((i.cpuMicros / 1e6 / secs) * 100, 1),
      lagP99Ms,
      lagMaxMs: round(w.lag.max / 1000),
      skippedSlots: w.skippedSlots,
      waitPercent: i.waitPercent ?? null,
      keptUp,
    },
    check: {
      passed: failures.length === 0,
      failures,
      limits: { rttP95Ms: o.limits.rttP95Ms ?? null, errors: o.limits.errors, keptUp: o.limits.keptUp, metrics: o.limits.metrics },
    },
  };
}

/** A generator that runs its slots more than this late (p99), or skips any, under-sends. */
const MAX_LAG_P99_MS = 20;

/** The --check verdict: liveness always, then each limit that is set. */
function judge(i: ReportInput, rttP95Ms: number, lagP99Ms: number, keptUp: boolean): CheckFailure[] {
  const o = i.options;
  const limits = o.limits;
  const failures: CheckFailure[] = [];
  const fail = (id: CheckId, message: string) => failures.push({ id, message });
  if (i.run.connectAttempts < o.players) {
    fail('started', `${o.players - i.run.connectAttempts} bot(s) never started: the server accepted connects too slowly`);
  }
  if (i.joinedAtEnd < o.players) fail('joined', `${i.joinedAtEnd} of ${o.players} bots were joined at the end`);
  if (i.run.connectFailures > 0) fail('connects', `${i.run.connectFailures} connect attempt(s) failed`);
  if (i.acked < o.players) fail('acked', `${i.acked} of ${o.players} bots got a move acknowledged`);
  if (i.window.acks === 0) fail('window_acks', 'no move was acknowledged in the measurement window');
  if (limits.rttP95Ms !== undefined && i.window.rtt.count > 0 && rttP95Ms > limits.rttP95Ms) {
    fail('rtt_p95', `move→ack p95 was ${rttP95Ms} ms, above the limit of ${limits.rttP95Ms} ms`);
  }
  const seen = limits.errors.filter((code) => (i.run.errors[code] ?? 0) > 0);
  if (seen.length > 0) {
    fail('errors', `the server answered with ${seen.map((c) => `${c} ×${i.run.errors[c]}`).join(', ')}`);
  }
  if (limits.keptUp && !keptUp) {
    fail('kept_up', `the generator fell behind (lag p99 ${lagP99Ms} ms, ${i.window.skippedSlots} skipped turns): its numbers understate the server; give it more CPU`);
  }
  if (limits.metrics && o.metricsUrl !== undefined && i.serverError !== null) {
    fail('metrics', `the server's metrics could not be read: ${i.serverError}`);
  }
  return failures;
}

function fmt(v: number | null, unit = ''): string {
  if (v === null || Number.isNaN(v)) return 'n/a';
  return `${v.toLocaleString('en-US', { maximumFractionDigits: 2 })}${unit}`;
}

/** What a passed check held the run to, in words. */
function describeLimits(l: LoadReport['check']['limits']): string {
  const parts = ['every bot joined and got acks'];
  if (l.rttP95Ms !== null) parts.push(`move→ack p95 ≤ ${l.rttP95Ms} ms`);
  if (l.errors.length > 0) parts.push(`no ${l.errors.join(' or ')} errors`);
  if (l.keptUp) parts.push('the generator kept up');
  if (l.metrics) parts.push('metrics read');
  return parts.join(', ');
}

/** The human table: one line per figure, aligned. */
export function formatTable(r: LoadReport): string {
  const s = r.server;
  const rows: [string, string][] = [
    ['server', `${r.config.url} over ${r.config.transport}`],
    ['bots', `${r.config.players} (ramp ${r.config.rampS} s, ${r.config.workers} worker(s))`],
    ['window', `${fmt(r.windowS, ' s')}`],
    ['CCU joined at end', `${r.ccu.atEnd} / ${r.ccu.target} (min in window ${r.ccu.minInWindow})`],
    ['connects', `${r.connect.attempts} attempts, ${r.connect.failures} failed, ${r.connect.disconnects} lost`],
    ['connect time p50/p95/p99', `${fmt(r.connect.p50Ms)} / ${fmt(r.connect.p95Ms)} / ${fmt(r.connect.p99Ms)} ms`],
    ['move→ack p50/p95/p99', `${fmt(r.rtt.p50Ms)} / ${fmt(r.rtt.p95Ms)} / ${fmt(r.rtt.p99Ms)} ms (max ${fmt(r.rtt.maxMs)}, n=${r.rtt.samples})`],
    ['moves sent / acked', `${r.moves.sent} / ${r.moves.acked}`],
    ['messages out / in', `${fmt(r.messages.outPerS)} / ${fmt(r.messages.inPerS)} per s`],
    ['bytes out / in', `${fmt(r.messages.bytesOutPerS / 1024)} / ${fmt(r.messages.bytesInPerS / 1024)} KiB/s`],
    ['server frames in', `${fmt(r.messages.framesInPerS)} per s (${fmt(r.config.players > 0 ? r.messages.framesInPerS / r.config.players : null)} per bot)`],
    ['errors', r.errors.total === 0 ? '0' : `${r.errors.total} (${Object.entries(r.errors.byCode).map(([k, v]) => `${k} ${v}`).join(', ')})`],
    [
      'server tick p50/p99',
      s ? `${fmt(s.tickP50Ms)} / ${fmt(s.tickP99Ms)} ms (${s.ticks} ticks, ${fmt(s.ticksWithin25ms === null ? null : s.ticksWithin25ms * 100)} % ≤ 25 ms)` : `n/a (${r.serverError ?? 'not read'})`,
    ],
    ['server active players', s ? fmt(s.activePlayers) : 'n/a'],
    ...(s?.cpuPercent != null
      ? [['server CPU', `${fmt(s.cpuPercent)} % of one core (kernel ${fmt(s.systemPercent)} %), waited for a CPU ${fmt(s.waitPercent)} % of the time`] as [string, string]]
      : []),
    ...(s?.threads
      ? [['server threads', Object.entries(s.threads).filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v)} %`).join(', ') || 'all below 0.5 %'] as [string, string]]
      : []),
    [
      'generator',
      `${fmt(r.generator.cpuPercent)} % CPU (waited ${fmt(r.generator.waitPercent)} %), lag p99 ${fmt(r.generator.lagP99Ms)} ms, ${r.generator.skippedSlots} skipped${r.generator.keptUp ? '' : ' — OVERLOADED: numbers understate the server'}`,
    ],
    ['check', r.check.passed ? `passed (${describeLimits(r.check.limits)})` : `FAILED: ${r.check.failures.map((f) => `${f.id}: ${f.message}`).join('; ')}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
