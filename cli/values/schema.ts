/**
 * The chart's values.schema.json (draft-07) checked with ajv over the merged values — the same check
 * helm makes, but with one wording for helm 3 and 4 and with what a user needs: the key as `--set`
 * writes it, what was expected, and a fix that is itself valid (the chart's default where that
 * satisfies the schema).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { Problem } from '../errors.ts';
import { childKey, type ValueSources } from './inputs.ts';
import { splitKey, valueAt, type Values } from './compute.ts';

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
};

/** A compiled schema of one chart, with the chart's defaults to draw fixes from. */
export class ValuesSchema {
  private readonly validate: ValidateFunction;
  private readonly schema: Schema;
  private readonly defaults: Values;
  private readonly Ajv: typeof AjvClass;

  constructor(Ajv: typeof AjvClass, schema: Schema, defaults: Values) {
    this.Ajv = Ajv;
    this.schema = schema;
    this.defaults = defaults;
    this.validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(schema);
  }

  /** The schema of a chart directory, with its values.yaml as the defaults; undefined when the chart has none. */
  static async forChart(dir: string): Promise<ValuesSchema | undefined> {
    const file = join(dir, 'values.schema.json');
    if (!existsSync(file)) return undefined;
    const defaults = (parse(readFileSync(join(dir, 'values.yaml'), 'utf8')) ?? {}) as Values;
    // ajv is loaded on first use: commands that never validate values start faster.
    const { Ajv } = await import('ajv');
    return new ValuesSchema(Ajv, JSON.parse(readFileSync(file, 'utf8')) as Schema, defaults);
  }

  /** True when `values` satisfies the schema. */
  accepts(values: Values): boolean {
    return this.validate(values) as boolean;
  }

  /** Every schema violation of `values`, located by `sources`. */
  problems(values: Values, sources?: ValueSources): Problem[] {
    if (this.validate(values)) return [];
    const errors = collapseBranches(this.validate.errors ?? []);
    const seen = new Set<string>();
    const out: Problem[] = [];
    for (const e of errors) {
      const p = this.describe(e);
      const id = `${p.key}\u0000${p.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const src = p.key ? sources?.sourceOf(p.key) : undefined;
      out.push(src ? { ...p, source: src.label } : p);
    }
    return out.sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
  }

  private describe(e: ErrorObject): Problem {
    const key = pointerToKey(e.instancePath);
    const got = show(e.data);
    switch (e.keyword) {
      case 'additionalProperties': {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        const full = childKey(key, extra);
        const known = Object.keys(this.schemaAt(key)?.properties ?? {});
        const near = closest(extra, known);
        return {
          key: full,
          message: `unknown key "${extra}"${key ? ` under ${key}` : ''}: the chart has no such value`,
          fix: near ? `did you mean ${childKey(key, near)}? Remove ${full}` : `remove ${full} (see docs/values.md for the chart's values)`,
        };
      }
      case 'required': {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        const full = childKey(key, missing);
        return { key: full, message: `${full} is required`, fix: this.fixFor(full) };
      }
      case 'type': {
        const want = String((e.params as { type: string }).type).replace(/,/g, ' or ');
        return { key, message: `expected ${want}, got ${typeName(e.data)} ${got}`, fix: this.fixFor(key) };
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
        return { key, message: `expected one of ${allowed.map(show).join(', ')}, got ${got}`, fix: this.fixFor(key, allowed[0]) };
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const { comparison, limit } = e.params as { comparison: string; limit: number };
        return { key, message: `must be ${comparison.replace('>=', '≥').replace('<=', '≤')} ${limit}, got ${got}`, fix: this.fixFor(key, limit) };
      }
      case 'pattern':
        return { key, message: `${got} is not in the expected form (${(e.params as { pattern: string }).pattern})`, fix: this.fixFor(key) };
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems': {
        const limit = (e.params as { limit: number }).limit;
        const what = e.keyword.endsWith('Items') ? 'items' : 'characters';
        return { key, message: `must have ${e.keyword.startsWith('min') ? 'at least' : 'at most'} ${limit} ${what}, got ${got}`, fix: this.fixFor(key) };
      }
      case 'anyOf':
      case 'oneOf':
        return { key, message: `${got} matches none of the allowed forms (${describeForms(this.schemaAt(key))})`, fix: this.fixFor(key) };
      default:
        return { key, message: `${e.message ?? 'is not valid'}, got ${got}`, fix: this.fixFor(key) };
    }
  }

  /**
   * A `--set` that makes `key` valid: the chart's default there (when the schema accepts it), else
   * `preferred` (an allowed enum value, a bound). undefined when neither is known to be valid.
   */
  private fixFor(key: string, preferred?: unknown): string | undefined {
    const sub = this.schemaAt(key);
    const candidates = [valueAt(this.defaults, key), preferred].filter((v) => v !== undefined);
    for (const c of candidates) if (!sub || this.acceptsAt(sub, c)) return setFlag(key, c);
    return undefined;
  }

  /** Whether one value satisfies a sub-schema (for fix suggestions). */
  private acceptsAt(schema: Schema, value: unknown): boolean {
    try {
      return new this.Ajv({ strict: false }).validate(schema, value) as boolean;
    } catch {
      return false;
    }
  }

  /** The sub-schema that governs `key` (properties, items, additionalProperties schemas). */
  schemaAt(key: string): Schema | undefined {
    let s: Schema | undefined = this.schema;
    for (const seg of splitKey(key)) {
      if (!s) return undefined;
      if (typeof seg === 'number') s = s.items;
      else s = s.properties?.[seg] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    }
    return s;
  }
}

/**
 * The flag that sets `key` to `value`: `--set` for scalars it keeps as they are, `--set-string` for
 * strings `--set` would retype or split (empty, "true", "007", commas), `--set-json` for maps and
 * lists. (helm applies --set-json before --set, and --set-string last.)
 */
export function setFlag(key: string, value: unknown): string {
  if (value === null) return `--set ${key}=null`;
  if (typeof value === 'number' || typeof value === 'boolean') return `--set ${key}=${String(value)}`;
  if (typeof value === 'string') {
    if (/^[\w./:@-]+$/.test(value) && !/^(true|false|null|[-+]?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(value)) return `--set ${key}=${value}`;
    return `--set-string '${key}=${value.replace(/([,\\])/g, '\\$1')}'`;
  }
  return `--set-json '${key}=${JSON.stringify(value)}'`;
}

/** ajv reports a failed anyOf and also each branch's own errors: keep the anyOf, drop its branches. */
function collapseBranches(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  return errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf' || !unions.some((u) => e.schemaPath.startsWith(`${u.schemaPath}/`)));
}

function pointerToKey(pointer: string): string {
  let key = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    key = /^\d+$/.test(seg) && key ? childKey(key, Number(seg)) : childKey(key, seg);
  }
  return key;
}


function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function describeForms(s: Schema | undefined): string {
  const forms = s?.anyOf ?? s?.oneOf ?? [];
  return forms.map((f) => (f.enum ? f.enum.map(show).join('/') : Array.isArray(f.type) ? f.type.join('/') : (f.type ?? 'a value'))).join(' or ') || 'see docs/values.md';
}

/** The known name closest to `name` when it is a likely typo (edit distance ≤ 2, or a case slip). */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
