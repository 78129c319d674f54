/** Human summaries of `mmoctl backup now` and `mmoctl restore`. */
import type { Style } from '../ui/style.ts';
import type { RunResult } from './run.ts';

export function renderRun(kind: 'backup' | 'restore', r: RunResult, s: Style, flags: string): string {
  const f = flags ? ` ${flags}` : '';
  const what = kind === 'backup' ? `dump ${r.dump}` : `restore of ${r.dump}`;
  const lines: string[] = [];
  if (r.state === 'created') {
    lines.push(`${s.mark('pass')} started the ${what}: Job ${r.job} in namespace ${r.namespace} (from CronJob ${r.cronJob}).`);
    lines.push(`  ${s.dim('follow it:')} kubectl -n ${r.namespace} logs -f job/${r.job}`);
  } else if (r.state === 'succeeded') {
    lines.push(`${s.mark('pass')} ${kind === 'backup' ? `wrote ${r.dump} on the backup volume` : `restored ${r.dump}`} in ${r.seconds} s (Job ${r.job}, namespace ${r.namespace}).`);
  } else {
    lines.push(`${s.mark('fail')} the ${what} failed after ${r.seconds} s (Job ${r.job}, namespace ${r.namespace}).`);
    lines.push(`  ${kind === 'backup' ? 'no dump was written and the older ones are kept' : 'the database is as it was: a restore runs in one transaction'}; the log below says why.`);
  }
  if (r.log) lines.push('', s.bold('Log'), ...r.log.trimEnd().split('\n').map((l) => `  ${l}`));
  if (kind === 'backup' && r.state !== 'failed') lines.push('', `${s.dim(r.state === 'created' ? 'once written, load it back with:' : 'load it back:')} mmoctl restore --from ${r.dump} --yes${f}`);
  return lines.join('\n');
}
