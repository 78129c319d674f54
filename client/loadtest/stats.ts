/**
 * What bots count, and how a worker's counts reach the main thread. A worker keeps one `BotStats`,
 * sends `take()` (the counts since the last take) about once a second, and the main thread adds
 * those deltas into its totals and into the measurement window.
 */
import { Histogram, type HistogramData } from './histogram.ts';

/** Counters indexed by a small integer (a message type byte, an error code). */
export type CountTable = Record<string, number>;

/** One worker's counts since its previous report. Plain data: it crosses postMessage. */
export interface StatsDelta {
  /** Bots currently joined (a level, not a delta). */
  readonly joined: number;
  /** Bots currently trying to connect (a level). */
  readonly connecting: number;
  /** Bots that joined at least once and received at least one move ack (a level). */
  readonly acked: number;
  readonly connectAttempts: number;
  readonly connectFailures: number;
  /** Connections lost after joining (not counting the generator's own close at the end). */
  readonly disconnects: number;
  readonly movesSent: number;
  readonly acks: number;
  readonly sent: CountTable;
  readonly received: CountTable;
  readonly bytesIn: number;
  /** Server frames received (each one socket write or data-channel message of the server). */
  readonly framesIn: number;
  readonly bytesOut: number;
  /** Error messages from the server by code name, plus local failures ("connect_timeout", …). */
  readonly errors: CountTable;
  /** Move → ack round trip, µs. */
  readonly rtt: HistogramData;
  /** Connect (transport open + hello + welcome), µs. */
  readonly connectTime: HistogramData;
  /** Scheduler lateness, µs: how far behind its own timetable the generator ran. */
  readonly lag: HistogramData;
  /** Slots the scheduler skipped because it fell a whole move period behind. */
  readonly skippedSlots: number;
  /** CPU time this thread's process used since the last report, µs (user + system). */
  readonly cpuMicros: number;
  /** Wall time covered by this delta, ms. */
  readonly wallMs: number;
}

function add(into: CountTable, from: CountTable): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** The counters a worker reports as deltas and the main thread sums. */
class Counts {
  connectAttempts = 0;
  connectFailures = 0;
  disconnects = 0;
  movesSent = 0;
  acks = 0;
  bytesIn = 0;
  framesIn = 0;
  bytesOut = 0;
  sent: CountTable = {};
  received: CountTable = {};
  errors: CountTable = {};
  readonly rtt = new Histogram();
  readonly connectTime = new Histogram();
}

const NUMBERS = ['connectAttempts', 'connectFailures', 'disconnects', 'movesSent', 'acks', 'bytesIn', 'framesIn', 'bytesOut'] as const;
const TABLES = ['sent', 'received', 'errors'] as const;

/** Counts kept by the bots of one thread. */
export class BotStats extends Counts {
  joined = 0;
  connecting = 0;
  acked = 0;

  /** Counts one sent message of `type` (frame bytes are counted where frames are sent). */
  countSent(type: string): void {
    this.sent[type] = (this.sent[type] ?? 0) + 1;
  }

  /** Counts one received message of `type` (frame bytes are counted where frames arrive). */
  countReceived(type: string): void {
    this.received[type] = (this.received[type] ?? 0) + 1;
  }

  /** Counts one error by its code name. */
  countError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /**
   * The counts since the previous take (levels such as `joined` are current values), resetting the
   * deltas. `lag` and `skippedSlots` come from the thread's scheduler; they are reset by the caller.
   */
  take(extra: { lag: Histogram; skippedSlots: number; cpuMicros: number; wallMs: number }): StatsDelta {
    const d: StatsDelta = {
      joined: this.joined,
      connecting: this.connecting,
      acked: this.acked,
      connectAttempts: this.connectAttempts,
      connectFailures: this.connectFailures,
      disconnects: this.disconnects,
      movesSent: this.movesSent,
      acks: this.acks,
      sent: this.sent,
      received: this.received,
      bytesIn: this.bytesIn,
      framesIn: this.framesIn,
      bytesOut: this.bytesOut,
      errors: this.errors,
      rtt: this.rtt.toData(),
      connectTime: this.connectTime.toData(),
      lag: extra.lag.toData(),
      skippedSlots: extra.skippedSlots,
      cpuMicros: extra.cpuMicros,
      wallMs: extra.wallMs,
    };
    for (const k of NUMBERS) this[k] = 0;
    for (const k of TABLES) this[k] = {};
    this.rtt.reset();
    this.connectTime.reset();
    return d;
  }
}

/** Sums of deltas over a span of time (the whole run, or the measurement window). */
export class StatsTotals extends Counts {
  readonly lag = new Histogram();
  skippedSlots = 0;
  cpuMicros = 0;

  /** Adds one worker's delta. */
  add(d: StatsDelta): void {
    for (const k of NUMBERS) this[k] += d[k];
    for (const k of TABLES) add(this[k], d[k]);
    this.rtt.merge(d.rtt);
    this.connectTime.merge(d.connectTime);
    this.lag.merge(d.lag);
    this.skippedSlots += d.skippedSlots;
    this.cpuMicros += d.cpuMicros;
  }

  /** Messages sent, all types. */
  sentTotal(): number {
    return Object.values(this.sent).reduce((a, b) => a + b, 0);
  }

  /** Messages received, all types. */
  receivedTotal(): number {
    return Object.values(this.received).reduce((a, b) => a + b, 0);
  }

  /** Errors, all codes. */
  errorTotal(): number {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }
}
