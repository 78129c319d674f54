/**
 * What a user gives to decide a release's values — a profile, values files, `--set`s, a game server
 * version — and where each key came from, so a problem can be reported as `file.yaml:12:5` or as the
 * `--set` that wrote it. Files are read and parsed here once; helm computes the merged values
 * (compute.ts), this module only remembers positions.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { InvalidInputError, type Problem } from '../errors.ts';
import type { ChartRequest, SetArg } from '../helm/helm.ts';
import { presetPath, type Profile } from '../package.ts';

/** A chart on disk: the bundled one, or the one `--chart` named (pulled or unpacked first). */
export interface ChartSource {
  /** What helm is given: a chart directory or packaged chart. */
  readonly ref: string;
  /** Chart version for a repository reference (`helm --version`). */
  readonly version?: string;
  /** A chart directory holding Chart.yaml, values.yaml and (optionally) values.schema.json. */
  readonly dir: string;
  /** True for the chart inside this package. */
  readonly bundled: boolean;
}

/** The user's value inputs, in the order helm layers them. */
export interface ValueInputs {
  readonly profile?: Profile;
  /** `-f` files in the order given. */
  readonly files: readonly string[];
  readonly sets: readonly SetArg[];
  /** `--version`: the game server version to run (image.tag). */
  readonly appVersion?: string;
}

/** Where one key was written. */
export interface KeySource {
  /** `values/production.yaml:12:5`, `--set gameServer.replicas=0` … */
  readonly label: string;
  /** Line and column in a file (1-based), when the source is a file. */
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

/** One layer of values: a file, or every `--set`; keys are dotted paths (`a.b[0].c`). */
interface Layer {
  readonly keys: Map<string, KeySource>;
}

/** The values files read and the `--set` keys, remembering where every key was written. */
export class ValueSources {
  private readonly layers: Layer[];

  constructor(layers: Layer[]) {
    this.layers = layers;
  }

  /**
   * The last layer that wrote `key`, or the nearest ancestor of it (a file that sets
   * `gameServer.resources: null` wrote every key below). undefined for chart defaults.
   */
  sourceOf(key: string): KeySource | undefined {
    const chain = ancestors(key);
    for (const candidate of chain) {
      for (let i = this.layers.length - 1; i >= 0; i--) {
        const hit = this.layers[i]!.keys.get(candidate);
        if (hit) return hit;
      }
    }
    return undefined;
  }

  /** Every key some layer wrote (for "did you mean" and tests). */
  keys(): string[] {
    return [...new Set(this.layers.flatMap((l) => [...l.keys.keys()]))];
  }
}

/** `a.b[0].c` → [`a.b[0].c`, `a.b[0]`, `a.b`, `a`]. */
function ancestors(key: string): string[] {
  const out = [key];
  let k = key;
  for (;;) {
    const cut = Math.max(lastUnescaped(k, '.'), k.endsWith(']') ? k.lastIndexOf('[') : -1);
    if (cut <= 0) break;
    k = k.slice(0, cut);
    out.push(k);
  }
  return out;
}

function lastUnescaped(s: string, ch: string): number {
  for (let i = s.length - 1; i >= 0; i--) if (s[i] === ch && s[i - 1] !== '\\') return i;
  return -1;
}

/** A map key as `--set` writes it: dots inside the key escaped. */
export function keySegment(name: string): string {
  return name.replace(/\./g, '\\.');
}

/** Joins a parent path and a child (map key or list index). */
export function childKey(parent: string, child: string | number): string {
  if (typeof child === 'number') return `${parent}[${child}]`;
  return parent ? `${parent}.${keySegment(child)}` : keySegment(child);
}

/**
 * Reads every values file (the profile's preset first), checking that each parses and holds a map.
 * Every problem of every file is reported at once, as invalid input (exit 2).
 */
export async function readValueSources(inputs: ValueInputs): Promise<ValueSources> {
  const problems: Problem[] = [];
  const layers: Layer[] = [];
  const files = [...(inputs.profile ? [{ path: presetPath(inputs.profile), label: `--profile ${inputs.profile}` }] : []), ...inputs.files.map((f) => ({ path: f, label: f }))];
  for (const f of files) {
    const layer = await readFileLayer(f.path, f.label, problems);
    if (layer) layers.push(layer);
  }
  layers.push(setLayer(inputs));
  if (problems.length) throw new InvalidInputError(`${problems.length === 1 ? 'A values file is' : 'Values files are'} not usable.`, { problems });
  return new ValueSources(layers);
}

async function readFileLayer(path: string, label: string, problems: Problem[]): Promise<Layer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
    problems.push({ source: label, message: `cannot read values file ${path}: ${why}`, fix: 'pass a readable YAML file with -f, or create it with `mmoctl init`' });
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0] ?? (e.pos ? lines.linePos(e.pos[0]) : undefined);
      problems.push({ source: pos ? `${label}:${pos.line}:${pos.col}` : label, message: `not valid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    return undefined;
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) return { keys: new Map() };
  if (!isMap(root)) {
    const pos = root.range ? lines.linePos(root.range[0]) : undefined;
    problems.push({ source: pos ? `${label}:${pos.line}:${pos.col}` : label, message: `a values file holds a map of keys (gameServer:, udp: …), this one holds ${isSeq(root) ? 'a list' : 'a single value'}` });
    return undefined;
  }
  const keys = new Map<string, KeySource>();
  const visit = (node: Node | null, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items as Pair<Node, Node | null>[]) {
        const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const key = childKey(path, name);
        const at = pair.key && 'range' in pair.key && pair.key.range ? lines.linePos(pair.key.range[0]) : undefined;
        keys.set(key, at ? { label: `${label}:${at.line}:${at.col}`, file: label, line: at.line, col: at.col } : { label });
        visit(pair.value, key);
      }
    } else if (isSeq(node)) {
      (node.items as (Node | null)[]).forEach((item, i) => {
        const key = childKey(path, i);
        const at = item?.range ? lines.linePos(item.range[0]) : undefined;
        keys.set(key, at ? { label: `${label}:${at.line}:${at.col}`, file: label, line: at.line, col: at.col } : { label });
        visit(item, key);
      });
    }
  };
  visit(root, '');
  return { keys };
}

/** The keys `--set` flags write (helm's syntax: `a.b=1,c[0]=x`, `\.` and `\,` escapes). */
function setLayer(inputs: ValueInputs): Layer {
  const keys = new Map<string, KeySource>();
  for (const s of inputs.sets) {
    const pairs = s.flag === '--set-json' ? [s.value] : splitUnescaped(s.value, ',');
    for (const pair of pairs) {
      const eq = indexUnescaped(pair, '=');
      if (eq <= 0) continue;
      keys.set(pair.slice(0, eq), { label: `${s.flag} ${pair}` });
    }
  }
  if (inputs.appVersion) keys.set('image.tag', { label: `--version ${inputs.appVersion}` });
  return { keys };
}

/** Splits on `sep` outside `{…}` lists and not escaped with a backslash. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth = Math.max(0, depth - 1);
    if (c === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

function indexUnescaped(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

/** The helm request for these inputs: the preset, the files, then every set in the order given. */
export function chartRequest(chart: ChartSource, inputs: ValueInputs): ChartRequest {
  const sets: SetArg[] = [...inputs.sets];
  if (inputs.appVersion) sets.push({ flag: '--set-string', value: `image.tag=${inputs.appVersion}` });
  return { chart, valueFiles: [...(inputs.profile ? [presetPath(inputs.profile)] : []), ...inputs.files], sets };
}
