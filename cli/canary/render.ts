/** The canary's result for people: each window's numbers per track and verdict, then the decision. */
import type { Style } from '../ui/style.ts';
import { table } from '../ui/table.ts';
import type { CanaryResult } from './run.ts';

const ms = (x: number | null) => (x === null ? '-' : `${Math.round(x)} ms`);
const pct = (a: number, b: number) => (b > 0 ? `${((a / b) * 100).toFixed(2)} %` : '-');

export function renderCanary(r: CanaryResult, s: Style): string {
  const lines: string[] = [];
  const mark = r.decision === 'promoted' ? s.mark('pass') : s.mark('fail');
  lines.push(`${mark} canary of game server ${r.toVersion} (stable ${r.fromVersion}) in ${r.namespace}/${r.release}: ${s.bold(r.decision)}${r.revision ? `, now revision ${r.revision}` : ''}.`);
  lines.push(`  ${r.reason}`);
  if (r.steps.length) {
    lines.push('', s.bold(`Windows (metrics from ${r.metrics})`));
    const rows = r.steps.flatMap((st) =>
      (['canary', 'stable'] as const).map((track) => {
        const t = st[track];
        const outcome = st.verdict.outcome === 'pass' ? s.ok('pass') : st.verdict.outcome === 'fail' ? s.fail('fail') : s.warn('too few players');
        return [track === 'canary' ? String(st.step) : '', track, `${t.readyPods}/${t.pods}`, String(t.players), ms(t.ackP95Ms), String(t.ackSamples), ms(t.tickP99Ms), pct(t.rejected, t.messagesIn), String(t.unexpectedDisconnects), String(t.restarts), track === 'canary' ? outcome : ''];
      }),
    );
    lines.push(table(['WINDOW', 'TRACK', 'READY', 'PLAYERS', 'P95 MOVE→ACK', 'SAMPLES', 'TICK P99', 'REJECTED', 'DROPPED', 'RESTARTS', 'VERDICT'], rows).split('\n').map((l) => `  ${l}`).join('\n'));
    const failing = r.steps.flatMap((st) => st.verdict.judgements.filter((j) => j.outcome !== 'pass').map((j) => `window ${st.step}: ${j.metric}: ${j.why}`));
    for (const f of failing) lines.push(`  ${s.dim(f)}`);
  }
  if (r.rollout?.replaced.length) {
    lines.push('', s.bold('Rolling update of stable'));
    for (const d of r.rollout.replaced) lines.push(`  ${d.pod} (${d.track}): ${d.players ?? '?'} players moved, drained in ${d.drainSeconds === null ? 'more than the watch' : `${d.drainSeconds} s`}`);
    if (r.rollout.playersBefore !== null) lines.push(`  players before ${r.rollout.playersBefore}, after ${r.rollout.playersAfter ?? '?'}`);
  }
  for (const w of r.warnings) lines.push(`  ${s.mark('warn')} ${w}`);
  return lines.join('\n');
}
