/**
 * The load generator's result: a JSON shape (stable, versioned: scripts and the benchmark read it)
 * built from the measurement window's totals, and the table printed for people.
 */
import type { Histogram } from './histogram.ts';
import type { LoadOptions } from './options.ts';
import type { CountTable, StatsTotals } from './stats.ts';

export const REPORT_VERSION = 1;

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
  /**
   * Time its threads were runnable but waiting for a CPU, % of the window (Linux, --server-pid):
   * above a few % the machine, not the server, limited it.
   */
  readonly waitPercent: number | null;
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
  readonly check: { readonly passed: boolean; readonly failures: readonly string[] };
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
  const failures: string[] = [];
  if (i.run.connectAttempts < o.players) {
    failures.push(`${o.players - i.run.connectAttempts} bot(s) never started: the server accepted connects too slowly`);
  }
  if (i.joinedAtEnd < o.players) failures.push(`${i.joinedAtEnd} of ${o.players} bots were joined at the end`);
  if (i.run.connectFailures > 0) failures.push(`${i.run.connectFailures} connect attempt(s) failed`);
  if (i.acked < o.players) failures.push(`${i.acked} of ${o.players} bots got a move acknowledged`);
  if (w.acks === 0) failures.push('no move was acknowledged in the measurement window');
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
      p95Ms: ms(w.rtt, 0.95),
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
      // A generator that runs its slots more than 20 ms late, or skips any, under-sends.
      keptUp: w.skippedSlots === 0 && lagP99Ms <= 20,
    },
    check: { passed: failures.length === 0, failures },
  };
}

function fmt(v: number | null, unit = ''): string {
  if (v === null || Number.isNaN(v)) return 'n/a';
  return `${v.toLocaleString('en-US', { maximumFractionDigits: 2 })}${unit}`;
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
    ['errors', r.errors.total === 0 ? '0' : `${r.errors.total} (${Object.entries(r.errors.byCode).map(([k, v]) => `${k} ${v}`).join(', ')})`],
    [
      'server tick p50/p99',
      s ? `${fmt(s.tickP50Ms)} / ${fmt(s.tickP99Ms)} ms (${s.ticks} ticks, ${fmt(s.ticksWithin25ms === null ? null : s.ticksWithin25ms * 100)} % ≤ 25 ms)` : `n/a (${r.serverError ?? 'not read'})`,
    ],
    ['server active players', s ? fmt(s.activePlayers) : 'n/a'],
    ...(s?.cpuPercent != null
      ? [['server CPU', `${fmt(s.cpuPercent)} % of one core, waited for a CPU ${fmt(s.waitPercent)} % of the time`] as [string, string]]
      : []),
    [
      'generator',
      `${fmt(r.generator.cpuPercent)} % CPU (waited ${fmt(r.generator.waitPercent)} %), lag p99 ${fmt(r.generator.lagP99Ms)} ms, ${r.generator.skippedSlots} skipped${r.generator.keptUp ? '' : ' — OVERLOADED: numbers understate the server'}`,
    ],
    ['check', r.check.passed ? 'passed' : `FAILED: ${r.check.failures.join('; ')}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
