/** The human summary of `mmoctl support-bundle`: where the archive is, what it holds, what it lacks and why. */
import type { Style } from '../ui/style.ts';
import type { SupportBundle } from './archive.ts';

export function renderBundle(b: SupportBundle, s: Style): string {
  const kib = (n: number) => `${(n / 1024).toFixed(n < 10_240 ? 1 : 0)} KiB`;
  const lines = [
    `${s.mark('pass')} wrote ${s.bold(b.path)} (${kib(b.bytes)}) for release ${b.release} in ${b.namespace}`,
    `  ${b.parts.length} parts; values of ${b.redaction.secrets.length} Secrets redacted in every file (${b.redaction.values} strings searched)`,
  ];
  if (b.redaction.tooShort.length) lines.push(`  ${s.warn('not searched for')} (shorter than ${b.redaction.minLength} characters): ${b.redaction.tooShort.join(', ')}`);
  if (b.missing.length) {
    lines.push('', s.bold(`Not collected (${b.missing.length})`));
    for (const m of b.missing) lines.push(`  ${s.mark('skip')} ${m.path}  ${s.dim(m.reason)}`);
  }
  lines.push('', s.dim('bundle.json inside the archive lists every part; check it before attaching the archive to a ticket.'));
  return lines.join('\n');
}
