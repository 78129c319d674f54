/** Human rendering of an error and its problems (each with key, where it was written, and a fix). */
import type { Problem } from '../errors.ts';
import type { Style } from './style.ts';

/** The human rendering of an error, with every problem on its own lines. */
export function renderError(message: string, hint: string | undefined, problems: readonly Problem[], style: Style): string {
  const lines = [`${style.fail('Error:')} ${message}`];
  for (const p of problems) {
    const text = !p.key ? p.message : p.message.startsWith(`${p.key} `) ? `${style.bold(p.key)}${p.message.slice(p.key.length)}` : `${style.bold(p.key)}: ${p.message}`;
    lines.push(`  ${style.mark('fail')} ${text}`);
    if (p.source) lines.push(`      ${style.dim('at')} ${p.source}`);
    if (p.fix) lines.push(`      ${style.dim('fix:')} ${p.fix}`);
  }
  if (hint) lines.push(`${style.dim('Hint:')} ${hint}`);
  return `${lines.join('\n')}\n`;
}
