// `mmoctl status --wait` and `--watch`: when they stop, what they show meanwhile, and how a terminal
// picture is redrawn in place.
import { describe, expect, it } from 'vitest';
import { followStatus, LineView, RedrawView, rowsOf, type StatusView } from '../../../cli/status/follow.ts';
import type { StatusReport } from '../../../cli/status/model.ts';
import { PLAIN } from '../../../cli/ui/style.ts';
import { ReleaseWorld, report } from './release-world.ts';

async function pictures() {
  const healthy = await report(new ReleaseWorld());
  const w = new ReleaseWorld();
  w.deployments[0]!.status = { ...w.deployments[0]!.status, readyReplicas: 1 };
  const degraded = await report(w);
  return { healthy, degraded };
}

class RecordingView implements StatusView {
  shown: { verdict: string; note: string }[] = [];
  ended = 0;
  show(r: StatusReport, note: string) {
    this.shown.push({ verdict: r.verdict, note });
  }
  end() {
    this.ended++;
  }
}

describe('mmoctl status --wait / --watch', () => {
  it('--wait stops at the first healthy picture, having shown the ones before it', async () => {
    const { healthy, degraded } = await pictures();
    const seq = [degraded, degraded, healthy];
    const view = new RecordingView();
    const res = await followStatus({ collect: async () => seq.shift()!, mode: 'wait', timeoutMs: 60_000, intervalMs: 1, view });
    expect(res.outcome).toBe('healthy');
    expect(res.report.verdict).toBe('healthy');
    expect(view.shown.map((s) => s.verdict)).toEqual(['degraded', 'degraded']);
    expect(view.shown[0]!.note).toMatch(/^waiting until healthy, 1m left \(every 0s; Ctrl-C stops\)$/);
    expect(view.ended).toBe(1);
  });

  it('--wait gives up at the timeout with the latest picture', async () => {
    const { degraded } = await pictures();
    let reads = 0;
    let now = 0;
    const view = new RecordingView();
    const res = await followStatus({
      collect: async () => {
        reads++;
        now += 1000;
        return degraded;
      },
      mode: 'wait',
      timeoutMs: 3500,
      intervalMs: 1,
      view,
      clock: () => now,
    });
    expect(res).toMatchObject({ outcome: 'timeout', report: { verdict: 'degraded' } });
    expect(reads).toBe(4);
    expect(view.ended).toBe(1);
  });

  it('--watch keeps reading, healthy or not, until Ctrl-C', async () => {
    const { healthy } = await pictures();
    const stop = new AbortController();
    let reads = 0;
    const res = await followStatus({
      collect: async () => {
        if (++reads === 5) stop.abort();
        return healthy;
      },
      mode: 'watch',
      timeoutMs: 0,
      intervalMs: 1,
      view: new RecordingView(),
      signal: stop.signal,
    });
    expect(res.outcome).toBe('interrupted');
    expect(reads).toBe(5);
  });

  it('on a pipe prints a timestamped line only when the verdict or its reasons change', async () => {
    const { healthy, degraded } = await pictures();
    const out: string[] = [];
    const view = new LineView({ write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream, PLAIN);
    for (const r of [degraded, degraded, healthy, healthy]) view.show(r);
    expect(out).toEqual(['12:00:00 ‼ degraded: 1 of 2 game servers are ready\n', '12:00:00 ✔ healthy\n']);
  });

  it('on a terminal redraws in place, then clears the live picture for the final one', async () => {
    const { degraded } = await pictures();
    const out: string[] = [];
    const tty = { write: (s: string) => out.push(s), columns: 200, rows: 200 } as unknown as NodeJS.WriteStream;
    const view = new RedrawView(tty, PLAIN);
    view.show(degraded, 'waiting');
    view.show(degraded, 'waiting');
    view.end();
    const rows = rowsOf(out[0]!, 200);
    expect(out[0]).toMatch(/^Release game in game: ‼ degraded/);
    expect(out[2]).toBe(`\x1b[${rows}A\r\x1b[J${out[0]}`);
    expect(out.at(-1)).toBe(`\x1b[${rows}A\r\x1b[J\x1b[?25h`);
  });

  it('clears the whole screen when the picture is taller than the terminal', async () => {
    const { degraded } = await pictures();
    const out: string[] = [];
    const view = new RedrawView({ write: (s: string) => out.push(s), columns: 80, rows: 10 } as unknown as NodeJS.WriteStream, PLAIN);
    view.show(degraded, 'waiting');
    view.show(degraded, 'waiting');
    expect(out[2]!.startsWith('\x1b[H\x1b[2J\x1b[3J')).toBe(true);
  });

  it('counts wrapped lines as the terminal shows them', () => {
    expect(rowsOf('abc\n\x1b[31m1234567890\x1b[39m\n', 4)).toBe(1 + 3);
  });
});
