/**
 * Reads the chart's combined failure (templates/_validate.tpl) the way the mmoctl CLI does:
 *
 *   The values are not valid (N problems):
 *     - <key> <what is wrong>. Fix: <alternative>[, or <alternative>]…
 *
 * where an alternative is helm flags (--set k=v, --set-json 'k=<json>', --api-versions kind) or a
 * kubectl command followed by ", then <helm flags>". Anything else in a Fix is a grammar error, which
 * these functions throw: the suites use them to hold the chart to its own contract.
 */

export interface Problem {
  /** The dotted key the line starts with, as written after --set. */
  key: string;
  /** The whole line after "- ". */
  text: string;
  /** Each alternative of the Fix: its kubectl command (if any) and the helm arguments it adds. */
  fixes: { kubectl?: string[]; helmArgs: string[] }[];
}

const HEADER = /The values are not valid \((\d+) problems\):\n/;

/** Splits a POSIX shell command line into words: single quotes, `'\''` and plain words only. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '\\' && line[i + 1] === "'") {
      word = (word ?? '') + "'";
      i++;
    } else if (ch === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === '"' || ch === '$' || ch === '`' || ch === ';' || ch === '&' || ch === '|') {
      throw new Error(`a fix must not need ${ch} outside single quotes: ${line}`);
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const HELM_FLAGS = new Set(['--set', '--set-json', '--api-versions']);

function helmArgs(text: string): string[] {
  const words = shellWords(text);
  if (words.length === 0 || words.length % 2) throw new Error(`expected helm flags with one value each: ${text}`);
  for (let i = 0; i < words.length; i += 2) {
    if (!HELM_FLAGS.has(words[i]!)) throw new Error(`unknown helm flag ${words[i]} in: ${text}`);
    if (words[i] === '--set-json') JSON.parse(words[i + 1]!.slice(words[i + 1]!.indexOf('=') + 1));
  }
  return words;
}

function alternative(text: string): Problem['fixes'][number] {
  const steps = text.split(', then ');
  if (steps[0]!.startsWith('kubectl ')) {
    if (steps.length > 2) throw new Error(`one kubectl command, then helm flags: ${text}`);
    return { kubectl: shellWords(steps[0]!), helmArgs: steps[1] === undefined ? [] : helmArgs(steps[1]) };
  }
  if (steps.length !== 1) throw new Error(`", then" follows a kubectl command only: ${text}`);
  return { helmArgs: helmArgs(text) };
}

/** The problems of helm's output; [] when it holds no combined failure. Throws on a line that breaks the grammar. */
export function parseProblems(output: string): Problem[] {
  const header = HEADER.exec(output);
  if (!header) return [];
  const lines = output.slice(header.index + header[0].length).split('\n');
  const problems: Problem[] = [];
  for (const line of lines) {
    if (!line.startsWith('  - ')) break;
    const text = line.slice(4);
    const at = text.lastIndexOf('. Fix: ');
    if (at < 0) throw new Error(`no ". Fix: " in: ${text}`);
    if (text.includes('||')) throw new Error(`"||" cuts the message under helm lint: ${text}`);
    const key = text.slice(0, text.indexOf(' '));
    problems.push({ key, text, fixes: text.slice(at + '. Fix: '.length).split(', or ').map(alternative) });
  }
  if (problems.length !== Number(header[1])) throw new Error(`header says ${header[1]} problems, found ${problems.length} lines`);
  return problems;
}

/** The segments of a --set key: dots split (except escaped ones), [i] indexes become their own segment. */
export function keySegments(key: string): string[] {
  const out: string[] = [];
  for (const part of key.split(/(?<!\\)\./)) {
    const m = /^(.*?)((?:\[\d+\])*)$/.exec(part)!;
    out.push(m[1]!.replaceAll('\\.', '.'));
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(index[1]!);
  }
  return out;
}

/** The key each --set / --set-json of a fix changes. */
export function keysSetBy(args: readonly string[]): string[] {
  const keys: string[] = [];
  for (let i = 0; i < args.length; i += 2) if (args[i] !== '--api-versions') keys.push(args[i + 1]!.slice(0, args[i + 1]!.search(/(?<!\\)=/)));
  return keys;
}

/**
 * helm's schema errors, normalised to dotted paths: helm 4 prints JSON pointers ("at '/a/b': missing
 * property 'c'"), helm 3 dotted paths ("a.b: c is required", "(root): …").
 */
export function schemaErrorPaths(stderr: string): string {
  return stderr
    .replace(/at '([^']*)': missing propert(?:y|ies) ((?:'[^']*'(?:, )?)+)/g, (_m, ptr: string, names: string) =>
      names
        .split(', ')
        .map((n) => [...pointer(ptr), n.slice(1, -1)].join('.'))
        .join(' '),
    )
    .replace(/at '([^']*)'/g, (_m, ptr: string) => pointer(ptr).join('.') || '(root)')
    .replace(/(^|\s)- \(root\): (\S+) is required/gm, '$1- $2 is required')
    .replace(/(^|\s)- (\S+): (\S+) is required/gm, '$1- $2.$3 is required');
}

function pointer(ptr: string): string[] {
  return ptr ? ptr.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~')) : [];
}
