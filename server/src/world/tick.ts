/**
 * The fixed-rate simulation loop. Each due tick calls `step(intervalMs)` (a fixed step, so the
 * simulation is the same however late the timer fires); when the process falls behind it catches up
 * at most `maxCatchUp` ticks and drops the rest rather than spiralling. The clock and the timer are
 * injected, so tests drive it deterministically.
 */

export interface TickerOptions {
  readonly intervalMs: number;
  /** Advances the world by exactly `elapsedMs`. */
  readonly step: (elapsedMs: number) => void;
  /** Monotonic milliseconds (performance.now in production). */
  readonly now: () => number;
  /** Called after each step with how long it took, in ms. */
  readonly onTick?: (durationMs: number) => void;
  /** Timer; defaults to setTimeout/clearTimeout. */
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
  /** Most ticks run back to back after a stall. Default 4. */
  readonly maxCatchUp?: number;
}

export class Ticker {
  private readonly o: TickerOptions;
  private next = 0;
  private handle: unknown;
  private running = false;
  /** Ticks skipped because the loop fell too far behind. */
  dropped = 0;
  /** Ticks stepped. */
  ticks = 0;

  constructor(options: TickerOptions) {
    this.o = options;
  }

  /** Starts ticking; the first tick is one interval from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.next = this.o.now() + this.o.intervalMs;
    this.schedule();
  }

  /** Milliseconds until the next tick is due (0 when it is already late). */
  msToNextTick(): number {
    const d = this.next - this.o.now();
    return d > 0 ? d : 0;
  }

  /** Stops ticking; a step in progress completes. */
  stop(): void {
    this.running = false;
    if (this.handle !== undefined) (this.o.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)))(this.handle);
    this.handle = undefined;
  }

  /** Runs every tick that is due at the current time (the timer calls this). */
  runDue(): void {
    const { intervalMs, step, now, onTick } = this.o;
    const maxCatchUp = this.o.maxCatchUp ?? 4;
    let ran = 0;
    let t = now();
    while (t >= this.next && ran < maxCatchUp) {
      const start = t;
      step(intervalMs);
      t = now();
      onTick?.(t - start);
      this.next += intervalMs;
      this.ticks++;
      ran++;
    }
    if (t >= this.next) {
      // Still behind after catching up: skip the backlog so the world does not fast-forward.
      const behind = Math.floor((t - this.next) / intervalMs) + 1;
      this.dropped += behind;
      this.next += behind * intervalMs;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = Math.max(0, this.next - this.o.now());
    const setTimer = this.o.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.handle = setTimer(() => {
      this.handle = undefined;
      if (!this.running) return;
      this.runDue();
      this.schedule();
    }, delay);
  }
}
