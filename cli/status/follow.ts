/**
 * `status --wait` and `--watch`: read, show, sleep, again — until healthy (`--wait`), the timeout, or
 * Ctrl-C. How each picture is shown is a `StatusView`: redrawn in place on a terminal, one timestamped
 * line per change elsewhere (and always on stderr when stdout carries a JSON or YAML document).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../ui/age.ts';
import { makeStyle, wantsColor, type Style } from '../ui/style.ts';
import type { StatusReport } from './model.ts';
import { renderStatus, statusLine, statusSignature } from './render.ts';

/** Time between two reads. */
export const POLL_INTERVAL_MS = 2000;

export interface StatusView {
  /** Shows the latest picture, with a line that says what is being waited for. */
  show(report: StatusReport, note: string): void;
  /** Ends the live view; the command then prints the final picture once. */
  end(): void;
}

export type FollowOutcome = 'healthy' | 'timeout' | 'interrupted';

export interface FollowOptions {
  readonly collect: () => Promise<StatusReport>;
  /** `wait`: until healthy or `timeoutMs`; `watch`: until aborted. */
  readonly mode: 'wait' | 'watch';
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly view: StatusView;
  /** Aborted by Ctrl-C: ends the loop with the latest picture. */
  readonly signal?: AbortSignal;
  readonly clock?: () => number;
}

/** Reads and shows until the mode's end; resolves with the latest picture and why it stopped. */
export async function followStatus(o: FollowOptions): Promise<{ report: StatusReport; outcome: FollowOutcome }> {
  const clock = o.clock ?? Date.now;
  const interval = o.intervalMs ?? POLL_INTERVAL_MS;
  const deadline = o.mode === 'wait' ? clock() + o.timeoutMs : Number.POSITIVE_INFINITY;
  try {
    for (;;) {
      const report = await o.collect();
      const left = deadline - clock();
      if (o.mode === 'wait' && report.verdict === 'healthy') return { report, outcome: 'healthy' };
      if (o.signal?.aborted) return { report, outcome: 'interrupted' };
      if (left <= 0) return { report, outcome: 'timeout' };
      const every = `every ${formatDuration(interval)}`;
      o.view.show(report, o.mode === 'wait' ? `waiting until healthy, ${formatDuration(left)} left (${every}; Ctrl-C stops)` : `watching ${every} (Ctrl-C stops)`);
      try {
        await sleep(Math.min(interval, left), undefined, { signal: o.signal });
      } catch {
        return { report, outcome: 'interrupted' };
      }
    }
  } finally {
    o.view.end();
  }
}

/** The view for a terminal: the picture redrawn in place, the cursor hidden meanwhile. */
export class RedrawView implements StatusView {
  private rows = 0;
  private readonly out: NodeJS.WriteStream;
  private readonly style: Style;

  constructor(out: NodeJS.WriteStream, style: Style) {
    this.out = out;
    this.style = style;
  }

  show(report: StatusReport, note: string): void {
    const text = `${renderStatus(report, this.style)}\n${this.style.dim(note)}\n`;
    this.out.write(`${this.clear()}${text}`);
    this.rows = rowsOf(text, this.out.columns || 80);
    this.out.write('\x1b[?25l');
  }

  end(): void {
    this.out.write(`${this.clear()}\x1b[?25h`);
    this.rows = 0;
  }

  /** Moves back over the last picture and clears it; the whole screen when it no longer fits. */
  private clear(): string {
    if (!this.rows) return '';
    return this.rows < (this.out.rows || 24) ? `\x1b[${this.rows}A\r\x1b[J` : '\x1b[H\x1b[2J\x1b[3J';
  }
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Rows a text takes on a terminal `columns` wide (long lines wrap). */
export function rowsOf(text: string, columns: number): number {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.reduce((n, l) => n + Math.max(1, Math.ceil(l.replace(ANSI, '').length / columns)), 0);
}

/** The view for pipes and logs: one timestamped line each time the verdict or its reasons change. */
export class LineView implements StatusView {
  private last = '';
  private readonly out: NodeJS.WritableStream;
  private readonly style: Style;

  constructor(out: NodeJS.WritableStream, style: Style) {
    this.out = out;
    this.style = style;
  }

  show(report: StatusReport): void {
    const sig = statusSignature(report);
    if (sig === this.last) return;
    this.last = sig;
    this.out.write(`${statusLine(report, this.style)}\n`);
  }

  end(): void {}
}

/** A redrawn picture for a person at a terminal; lines otherwise, on stderr when stdout carries a document. */
export function liveView(format: 'table' | 'json' | 'yaml', color: boolean): StatusView {
  if (format === 'table' && process.stdout.isTTY) return new RedrawView(process.stdout, makeStyle(wantsColor(process.stdout, color)));
  const out = format === 'table' ? process.stdout : process.stderr;
  return new LineView(out, makeStyle(wantsColor(out as NodeJS.WriteStream, color)));
}
