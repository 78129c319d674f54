/**
 * Colors and symbols of human output. Renderers take a `Style`, so the same renderer writes colored
 * text to a terminal and plain text to a pipe, `--no-color`, `NO_COLOR` or a golden file.
 */
import { Ansis } from 'ansis';
import type { CheckStatus } from '../checks/runner.ts';

export interface Style {
  readonly ok: (s: string) => string;
  readonly warn: (s: string) => string;
  readonly fail: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
  /** The mark of a check status: ✔ pass, ‼ warn, × fail, ○ skip. */
  readonly mark: (status: CheckStatus) => string;
}

const MARKS: Record<CheckStatus, string> = { pass: '✔', warn: '‼', fail: '×', skip: '○' };

/** A style; `color` false (or 0 color support) gives plain text. */
export function makeStyle(color: boolean): Style {
  const a = new Ansis(color ? 1 : 0);
  const paint: Record<CheckStatus, (s: string) => string> = { pass: (s) => a.green(s), warn: (s) => a.yellow(s), fail: (s) => a.red(s), skip: (s) => a.gray(s) };
  return {
    ok: (s) => a.green(s),
    warn: (s) => a.yellow(s),
    fail: (s) => a.red(s),
    dim: (s) => a.gray(s),
    bold: (s) => a.bold(s),
    mark: (status) => paint[status](MARKS[status]),
  };
}

/** Plain text: for golden files and pipes. */
export const PLAIN = makeStyle(false);

/** Whether a stream should get color: a TTY, unless NO_COLOR is set; FORCE_COLOR forces it. */
export function wantsColor(stream: NodeJS.WriteStream, flag: boolean): boolean {
  if (!flag) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  if (process.env.NO_COLOR) return false;
  return stream.isTTY === true;
}
