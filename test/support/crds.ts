/**
 * Schemas of other projects' kinds (KEDA, the Vertical Pod Autoscaler, Istio) from the
 * pinned @kubernetes-models/* packages, for two uses that must agree:
 * - offline, k8s-strict.ts walks a rendered object against its kind's schema: every field must be
 *   one the project defines at that path, with a JSON type that fits (unknown fields are refused);
 * - on the rig, `ensureCrds` registers each kind as a CustomResourceDefinition whose structural
 *   schema is this same one, so the API server prunes or (with fieldValidation Strict) refuses what
 *   the project would not know, and checks types, enums and required fields itself.
 *
 * The packages ship their schemas as compiled validators (which let unknown fields through) and as
 * TypeScript declarations generated from the projects' CRDs. The declarations are the readable form:
 * this module reads the small subset of TypeScript they are written in (interfaces, type aliases,
 * object literal types, unions of literals, Array<…>, index signatures, imports) and turns it into
 * OpenAPI v3 schemas. Integer-or-string unions become x-kubernetes-int-or-string; `{}` and `any`
 * keep unknown fields (x-kubernetes-preserve-unknown-fields), as the projects' CRDs do there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';

/**
 * The package whose declarations describe each API group. Add a group here to validate and register
 * its kinds. (Kinds whose project's own CRD is vendored, pinned-crds.ts, are checked by that instead.)
 */
export const CRD_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'autoscaling.k8s.io': '@kubernetes-models/autoscaler',
  'networking.istio.io': '@kubernetes-models/istio',
  'security.istio.io': '@kubernetes-models/istio',
};

/** An OpenAPI v3 schema as a CRD holds it. */
export interface CrdSchema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  properties?: Record<string, CrdSchema>;
  additionalProperties?: CrdSchema;
  items?: CrdSchema;
  required?: string[];
  enum?: (string | number | boolean)[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
}

// ---- reading the declarations ------------------------------------------------------------------

type TypeNode =
  | { t: 'string'; values?: string[] }
  | { t: 'number' }
  | { t: 'boolean' }
  | { t: 'any' }
  | { t: 'null' }
  | { t: 'array'; items: TypeNode }
  | { t: 'object'; props: Map<string, { type: TypeNode; optional: boolean }>; index?: TypeNode; extends?: TypeNode[] }
  | { t: 'ref'; name: string; file: string }
  | { t: 'union'; of: TypeNode[] };

interface Declarations {
  /** Interfaces and type aliases by name. */
  types: Map<string, TypeNode>;
  /** Imported names: name → file that declares them. */
  imports: Map<string, string>;
  /** `export type { A as B }`: B → A. */
  aliases: Map<string, string>;
}

const TOKEN = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$]*|-?\d+(?:\.\d+)?|=>|[{}[\]()<>:;?|,=&.*]/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`cannot read declarations at ${text.slice(at, at + 40)}`);
    const tok = m[0];
    if (/^\s|^\/[*/]/.test(tok)) continue;
    out.push(tok);
  }
  return out;
}

/** Resolves an import specifier of `from` to the declaration file. */
function resolveModule(spec: string, from: string): string {
  if (spec.startsWith('.')) return join(dirname(from), spec.replace(/\.js$/, '.d.ts'));
  const parts = spec.split('/');
  const pkg = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const rest = parts.slice(spec.startsWith('@') ? 2 : 1).join('/');
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg);
    if (existsSync(candidate)) return join(candidate, `${rest || 'index'}.d.ts`);
    if (dir === dirname(dir)) throw new Error(`cannot resolve ${spec} from ${from}`);
  }
}

const parsed = new Map<string, Declarations>();

function declarations(file: string): Declarations {
  const cached = parsed.get(file);
  if (cached) return cached;
  const toks = tokenize(readFileSync(file, 'utf8'));
  const d: Declarations = { types: new Map(), imports: new Map(), aliases: new Map() };
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++]!;
  const expect = (tok: string) => {
    if (toks[i] !== tok) throw new Error(`${file}: expected ${tok} at token ${i} (${toks.slice(i, i + 8).join(' ')})`);
    i++;
  };
  const unquote = (s: string) => (/^["']/.test(s) ? (JSON.parse(s.replace(/^'|'$/g, '"')) as string) : s);
  const skipBalanced = (open: string, close: string) => {
    let depth = 0;
    do {
      const tok = next();
      if (tok === open) depth++;
      else if (tok === close) depth--;
    } while (depth > 0);
  };

  function members(): TypeNode & { t: 'object' } {
    const node: TypeNode & { t: 'object' } = { t: 'object', props: new Map() };
    expect('{');
    while (peek() !== '}') {
      if (peek() === ';' || peek() === ',') {
        next();
        continue;
      }
      if (peek() === 'readonly' && toks[i + 1] !== ':' && toks[i + 1] !== '?') next();
      if (peek() === '[') {
        next();
        next(); // key name
        expect(':');
        next(); // string
        expect(']');
        expect(':');
        node.index = union();
        continue;
      }
      const name = unquote(next());
      let optional = false;
      if (peek() === '?') {
        optional = true;
        next();
      }
      expect(':');
      node.props.set(name, { type: union(), optional });
    }
    expect('}');
    return node;
  }

  function primary(): TypeNode {
    const tok = next();
    if (/^["']/.test(tok)) return { t: 'string', values: [unquote(tok)] };
    if (/^-?\d/.test(tok)) return { t: 'number' };
    if (tok === '{') {
      i--;
      return members();
    }
    if (tok === '(') {
      const inner = union();
      expect(')');
      return inner;
    }
    switch (tok) {
      case 'string':
        return { t: 'string' };
      case 'number':
        return { t: 'number' };
      case 'boolean':
      case 'true':
      case 'false':
        return { t: 'boolean' };
      case 'null':
      case 'undefined':
        return { t: 'null' };
      case 'any':
      case 'unknown':
      case 'object':
        return { t: 'any' };
      case 'Array': {
        expect('<');
        const items = union();
        expect('>');
        return { t: 'array', items };
      }
    }
    let name = tok;
    while (peek() === '.') {
      next();
      name += `.${next()}`;
    }
    if (peek() === '<') {
      // Type arguments. Exclude<T, U>, Omit<T, K> and the like narrow T: the schema keeps T's fields.
      next();
      const args = [union()];
      while (peek() === ',') {
        next();
        args.push(union());
      }
      expect('>');
      if (['Exclude', 'Omit', 'Partial', 'Required', 'Readonly', 'NonNullable', 'Pick', 'Extract'].includes(name)) return args[0]!;
    }
    if (peek() === '[' && toks[i + 1] !== ']') {
      // An indexed access (IFoo["bar"]): only in classes, which are skipped.
      skipBalanced('[', ']');
      return { t: 'any' };
    }
    return { t: 'ref', name, file };
  }

  function postfix(): TypeNode {
    let node = primary();
    while (peek() === '[' && toks[i + 1] === ']') {
      i += 2;
      node = { t: 'array', items: node };
    }
    return node;
  }

  function intersection(): TypeNode {
    const parts = [postfix()];
    while (peek() === '&') {
      next();
      parts.push(postfix());
    }
    return parts.length === 1 ? parts[0]! : { t: 'object', props: new Map(), extends: parts };
  }

  function union(): TypeNode {
    if (peek() === '|') next();
    const parts = [intersection()];
    while (peek() === '|') {
      next();
      parts.push(intersection());
    }
    return parts.length === 1 ? parts[0]! : { t: 'union', of: parts };
  }

  while (i < toks.length) {
    const tok = next();
    if (tok === 'import') {
      if (peek() === 'type') next();
      if (peek() !== '{') continue;
      next();
      const names: string[] = [];
      while (peek() !== '}') {
        const n = next();
        if (n === ',') continue;
        if (peek() === 'as') {
          next();
          names.push(next());
        } else names.push(n);
      }
      expect('}');
      expect('from');
      const target = resolveModule(unquote(next()), file);
      for (const n of names) d.imports.set(n, target);
    } else if (tok === 'export' && peek() === 'interface') {
      next();
      const name = next();
      if (peek() === '<') skipBalanced('<', '>');
      const bases: TypeNode[] = [];
      if (peek() === 'extends') {
        next();
        while (peek() !== '{') {
          if (peek() === ',') next();
          else bases.push(primary());
        }
      }
      const body = members();
      d.types.set(name, bases.length ? { ...body, extends: bases } : body);
    } else if (tok === 'export' && peek() === 'type' && toks[i + 1] === '{') {
      next();
      next();
      while (peek() !== '}') {
        const a = next();
        if (a === ',') continue;
        if (peek() === 'as') {
          next();
          d.aliases.set(next(), a);
        }
      }
      expect('}');
    } else if (tok === 'export' && peek() === 'type') {
      next();
      const name = next();
      if (peek() === '<') skipBalanced('<', '>');
      expect('=');
      d.types.set(name, union());
    } else if (tok === 'export' && peek() === 'declare') {
      while (peek() !== '{') next();
      skipBalanced('{', '}');
    }
  }
  parsed.set(file, d);
  return d;
}

/** The declaration a name stands for in `file`, following imports and re-export aliases. */
function lookup(name: string, file: string, seen = 0): { node: TypeNode; file: string } | undefined {
  if (seen > 20) throw new Error(`alias loop at ${name} in ${file}`);
  const d = declarations(file);
  if (d.types.has(name)) return { node: d.types.get(name)!, file };
  if (d.aliases.has(name)) return lookup(d.aliases.get(name)!, file, seen + 1);
  if (d.imports.has(name)) return lookup(name, d.imports.get(name)!, seen + 1);
  return undefined;
}

// ---- to OpenAPI schemas ------------------------------------------------------------------------

/** Names whose declarations only add apiVersion and kind (TypeMeta of @kubernetes-models/base). */
const TYPE_META = new Set(['TypeMeta']);

function toSchema(node: TypeNode, file: string, stack: string[]): CrdSchema {
  switch (node.t) {
    case 'string':
      return node.values ? { type: 'string', enum: node.values } : { type: 'string' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'any':
    case 'null':
      return { 'x-kubernetes-preserve-unknown-fields': true };
    case 'array':
      return { type: 'array', items: toSchema(node.items, file, stack) };
    case 'ref': {
      if (TYPE_META.has(node.name)) return { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' } } };
      const key = `${node.file}#${node.name}`;
      // A recursive type (rare in CRDs): keep the inner level open rather than recurse forever.
      if (stack.includes(key) || stack.length > 40) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      const found = lookup(node.name, node.file);
      if (!found) throw new Error(`${node.file}: no declaration of ${node.name}`);
      return toSchema(found.node, found.file, [...stack, key]);
    }
    case 'union': {
      const parts = node.of.filter((p) => p.t !== 'null').map((p) => toSchema(p, file, stack));
      if (parts.length === 1) return parts[0]!;
      const types = new Set(parts.map((p) => p.type));
      if (parts.every((p) => p.type === 'string' && p.enum)) return { type: 'string', enum: parts.flatMap((p) => p.enum!) };
      if (parts.every((p) => p.type === 'string')) return { type: 'string' };
      if (parts.every((p) => p.type === 'boolean')) return { type: 'boolean' };
      if (types.size === 2 && types.has('string') && types.has('number')) return { 'x-kubernetes-int-or-string': true };
      if (parts.every((p) => p.type === 'object' && p.properties)) return mergeObjects(parts, 'either');
      return { 'x-kubernetes-preserve-unknown-fields': true };
    }
    case 'object': {
      const own: CrdSchema = { type: 'object' };
      if (node.props.size) {
        own.properties = {};
        const required: string[] = [];
        for (const [name, p] of node.props) {
          own.properties[name] = toSchema(p.type, file, stack);
          if (!p.optional) required.push(name);
        }
        if (required.length) own.required = required;
      } else if (node.index) {
        own.additionalProperties = toSchema(node.index, file, stack);
      } else if (!node.extends) {
        own['x-kubernetes-preserve-unknown-fields'] = true;
      }
      if (!node.extends) return own;
      return mergeObjects([...node.extends.map((b) => toSchema(b, file, stack)), own], 'all');
    }
  }
}

/**
 * One object schema with the properties of every part. "all" (inheritance, intersections): what any
 * part requires is required. "either" (a union of shapes, one of which applies): only what all require.
 */
function mergeObjects(parts: CrdSchema[], mode: 'all' | 'either'): CrdSchema {
  const properties: Record<string, CrdSchema> = {};
  for (const p of parts) Object.assign(properties, p.properties ?? {});
  const required =
    mode === 'all' ? [...new Set(parts.flatMap((p) => p.required ?? []))] : (parts[0]!.required ?? []).filter((r) => parts.every((p) => p.required?.includes(r)));
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** `group/version/Kind` → its parts. */
function splitKind(gvk: string): { group: string; version: string; kind: string } {
  const [group, version, kind] = gvk.split('/') as [string, string, string];
  return { group, version, kind };
}

const schemas = new Map<string, CrdSchema>();

/**
 * The schema of a kind (`keda.sh/v1alpha1/ScaledObject`) as its package declares it, in the form a
 * CRD's openAPIV3Schema takes: metadata left to the API server, status dropped. Undefined for a
 * group CRD_PACKAGES does not list.
 */
export function kindSchema(gvk: string): CrdSchema | undefined {
  if (schemas.has(gvk)) return schemas.get(gvk);
  const { group, version, kind } = splitKind(gvk);
  const pkg = CRD_PACKAGES[group];
  if (!pkg) return undefined;
  const file = join(PROJECT_ROOT, 'node_modules', pkg, group, version, `${kind}.d.ts`);
  if (!existsSync(file)) throw new Error(`${pkg} declares no ${gvk} (looked for ${file}); is the package installed (npm ci)?`);
  const root = toSchema({ t: 'ref', name: `I${kind}`, file }, file, []);
  const { status: _status, metadata: _metadata, ...properties } = root.properties ?? {};
  // apiVersion and kind are the API server's to check; metadata is ObjectMeta, which a CRD may not describe.
  const required = (root.required ?? []).filter((r) => !['apiVersion', 'kind', 'metadata', 'status'].includes(r));
  const schema: CrdSchema = {
    type: 'object',
    properties: { ...properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } },
    ...(required.length ? { required } : {}),
  };
  schemas.set(gvk, schema);
  return schema;
}

/**
 * Fields of `value` the schema does not define at their path, and JSON type mismatches: what a
 * strict API server (fieldValidation Strict) would refuse. Each names the path.
 */
export function schemaWalk(value: unknown, schema: CrdSchema, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return;
  // An object the schema leaves undescribed (a CRD's metadata): the API server's, or anything.
  if (schema.type === 'object' && !schema.properties && !schema.additionalProperties) return;
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !Number.isInteger(value)) out.push(`${path}: expected an integer or a string, got ${JSON.stringify(value)}`);
    return;
  }
  const got = Array.isArray(value) ? 'array' : typeof value;
  switch (schema.type) {
    case 'string':
    case 'boolean':
      if (got !== schema.type) out.push(`${path}: expected a ${schema.type}, got ${got} (${JSON.stringify(value)})`);
      else if (schema.enum && !schema.enum.includes(value as string)) out.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
      return;
    case 'number':
    case 'integer':
      if (got !== 'number') out.push(`${path}: expected a number, got ${got} (${JSON.stringify(value)})`);
      return;
    case 'array':
      if (got !== 'array') return void out.push(`${path}: expected an array, got ${got}`);
      (value as unknown[]).forEach((v, i) => schemaWalk(v, schema.items!, `${path}[${i}]`, out));
      return;
    case 'object': {
      if (got !== 'object') return void out.push(`${path}: expected an object, got ${got}`);
      for (const [k, v] of Object.entries(value as object)) {
        const child = schema.properties?.[k] ?? schema.additionalProperties;
        if (!child) {
          if (!schema['x-kubernetes-preserve-unknown-fields']) out.push(`${path}.${k}: unknown field`);
          continue;
        }
        schemaWalk(v, child, `${path}.${k}`, out);
      }
      for (const r of schema.required ?? []) if (!(r in (value as object))) out.push(`${path}.${r}: required`);
      return;
    }
  }
}

/** JSON names of V1JSONSchemaProps' fields → the model's names (enum → _enum, x-kubernetes-… → x_kubernetes_…). */
const MODEL_NAMES = new Map(k8s.V1JSONSchemaProps.getAttributeTypeMap().map((a) => [a.baseName, a.name]));

/**
 * A schema as @kubernetes/client-node's model holds it: each field under the model's name, which its
 * serializer writes back under the JSON name (it drops fields it does not know). `items` and
 * `additionalProperties` are typed `any` in the model and written as given, so below them the
 * fields keep their JSON names.
 */
function clientModel(schema: CrdSchema): k8s.V1JSONSchemaProps {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    const key = MODEL_NAMES.get(k);
    if (!key) throw new Error(`schema field ${k} is not a field of V1JSONSchemaProps`);
    out[key] = k === 'properties' ? Object.fromEntries(Object.entries(v as Record<string, CrdSchema>).map(([name, p]) => [name, clientModel(p)])) : v;
  }
  return out as k8s.V1JSONSchemaProps;
}

/** The CustomResourceDefinition of one kind, with the package's schema (structural; unknown fields pruned). */
export function customResourceDefinition(gvk: string): k8s.V1CustomResourceDefinition {
  const { group, version, kind } = splitKind(gvk);
  const schema = kindSchema(gvk);
  if (!schema) throw new Error(`no package declares ${gvk}: add its group to CRD_PACKAGES`);
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${group}`,
      labels: { 'mmo.dev/rig-crd-source': 'kubernetes-models' },
      // Groups under k8s.io are Kubernetes' own and need their API review; the VPA's CRD names its own.
      ...(/(^|\.)k8s\.io$|(^|\.)kubernetes\.io$/.test(group) ? { annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/kubernetes/pull/63797' } } : {}),
    },
    spec: {
      group,
      scope: 'Namespaced',
      preserveUnknownFields: false,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: clientModel(schema) } }],
    },
  };
}

/**
 * Registers the kinds (`group/version/Kind`) on a cluster and waits until the API server serves
 * them. Idempotent and safe from several test files at once: an existing CRD is replaced with this
 * schema. Never removed (other runs reuse them).
 */
export async function ensureCrds(kc: k8s.KubeConfig, kinds: readonly string[]): Promise<void> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const gvk of kinds) {
    const body = customResourceDefinition(gvk);
    const name = body.metadata!.name!;
    for (let attempt = 0; ; attempt++) {
      try {
        await api.createCustomResourceDefinition({ body });
        break;
      } catch (err) {
        if (!(err instanceof k8s.ApiException && err.code === 409)) throw err;
        try {
          const live = await api.readCustomResourceDefinition({ name });
          await api.replaceCustomResourceDefinition({ name, body: { ...body, metadata: { ...body.metadata, resourceVersion: live.metadata!.resourceVersion } } });
          break;
        } catch (again) {
          if (!(again instanceof k8s.ApiException && again.code === 409) || attempt > 5) throw again;
        }
      }
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const live = await api.readCustomResourceDefinition({ name });
      if (live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established after 30 s: ${JSON.stringify(live.status?.conditions)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
