/**
 * Offline validation of rendered Kubernetes manifests, strict about unknown fields.
 *
 * Two independent checks, both needed:
 * - kubernetes-models (schemas of Kubernetes ~1.33/1.34 and prometheus-operator): types, formats and
 *   required fields. It accepts unknown fields.
 * - a walk over the generated models of @kubernetes/client-node (OpenAPI of Kubernetes 1.36): every
 *   field must be one the API defines at that path, with a JSON type that fits. This catches a
 *   misspelt or misplaced key, which the API server would drop with only a warning.
 * The prometheus-operator kinds have no client-node models; STRICT_CRD_TYPES lists the fields of the
 *   parts the chart uses, from the monitoring.coreos.com/v1 API reference. Other projects' kinds
 *   (KEDA, VPA, Istio: crds.ts) are checked both ways against their @kubernetes-models packages:
 *   the package's validator, and the schema its declarations give, with unknown fields refused.
 * Server-side dry-run on a real API server (the rig) remains the exact check.
 */
import * as k8s from '@kubernetes/client-node';
import { pinnedCrdProblems } from './pinned-crds.ts';
import { CRD_PACKAGES, kindSchema, schemaWalk } from './crds.ts';

/** One rendered object (a YAML document of `helm template`). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

type TypeMap = Record<string, readonly Attribute[]>;

const a = (baseName: string, type: string): Attribute => ({ baseName, type });

/** Fields of the prometheus-operator objects the chart renders (monitoring.coreos.com/v1). */
export const STRICT_CRD_TYPES: TypeMap = {
  'monitoring.coreos.com/v1/ServiceMonitor': [a('apiVersion', 'string'), a('kind', 'string'), a('metadata', 'V1ObjectMeta'), a('spec', 'PomServiceMonitorSpec')],
  PomServiceMonitorSpec: [
    a('selector', 'V1LabelSelector'),
    a('namespaceSelector', 'PomNamespaceSelector'),
    a('endpoints', 'Array<PomEndpoint>'),
    a('jobLabel', 'string'),
    a('targetLabels', 'Array<string>'),
    a('podTargetLabels', 'Array<string>'),
    a('sampleLimit', 'number'),
    a('scrapeProtocols', 'Array<string>'),
    a('attachMetadata', 'any'),
  ],
  PomNamespaceSelector: [a('any', 'boolean'), a('matchNames', 'Array<string>')],
  PomEndpoint: [
    a('port', 'string'),
    a('targetPort', 'IntOrString'),
    a('path', 'string'),
    a('scheme', 'string'),
    a('params', '{ [key: string]: Array<string>; }'),
    a('interval', 'string'),
    a('scrapeTimeout', 'string'),
    a('honorLabels', 'boolean'),
    a('honorTimestamps', 'boolean'),
    a('relabelings', 'Array<PomRelabelConfig>'),
    a('metricRelabelings', 'Array<PomRelabelConfig>'),
    a('tlsConfig', 'any'),
    a('bearerTokenSecret', 'any'),
    a('authorization', 'any'),
    a('basicAuth', 'any'),
    a('followRedirects', 'boolean'),
    a('enableHttp2', 'boolean'),
    a('filterRunning', 'boolean'),
  ],
  PomRelabelConfig: [
    a('sourceLabels', 'Array<string>'),
    a('separator', 'string'),
    a('targetLabel', 'string'),
    a('regex', 'string'),
    a('modulus', 'number'),
    a('replacement', 'string'),
    a('action', 'string'),
  ],
  'monitoring.coreos.com/v1/PrometheusRule': [a('apiVersion', 'string'), a('kind', 'string'), a('metadata', 'V1ObjectMeta'), a('spec', 'PomPrometheusRuleSpec')],
  PomPrometheusRuleSpec: [a('groups', 'Array<PomRuleGroup>')],
  PomRuleGroup: [
    a('name', 'string'),
    a('interval', 'string'),
    a('query_offset', 'string'),
    a('limit', 'number'),
    a('labels', '{ [key: string]: string; }'),
    a('partial_response_strategy', 'string'),
    a('rules', 'Array<PomRule>'),
  ],
  PomRule: [
    a('record', 'string'),
    a('alert', 'string'),
    a('expr', 'IntOrString'),
    a('for', 'string'),
    a('keep_firing_for', 'string'),
    a('labels', '{ [key: string]: string; }'),
    a('annotations', '{ [key: string]: string; }'),
  ],
};

/** client-node's model class name for an apiVersion/kind: apps/v1 Deployment → V1Deployment. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1)!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

function attributesOf(type: string): readonly Attribute[] | undefined {
  if (type in STRICT_CRD_TYPES) return STRICT_CRD_TYPES[type];
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>)[type];
  return model?.getAttributeTypeMap?.();
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/** Problems found by walking `value` as `type`; each names the JSON path. */
function walk(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const arrayOf = /^Array<(.+)>$/.exec(type);
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (arrayOf) {
    if (!Array.isArray(value)) return void out.push(`${path}: expected an array, got ${describe(value)}`);
    value.forEach((item, i) => walk(item, arrayOf[1]!, `${path}[${i}]`, out));
    return;
  }
  if (mapOf) {
    if (describe(value) !== 'object') return void out.push(`${path}: expected a map, got ${describe(value)}`);
    for (const [k, v] of Object.entries(value as object)) walk(v, mapOf[1]!, `${path}.${k}`, out);
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') out.push(`${path}: expected a string, got ${describe(value)} (${JSON.stringify(value)})`);
      return;
    case 'number':
      if (typeof value !== 'number') out.push(`${path}: expected a number, got ${describe(value)} (${JSON.stringify(value)})`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') out.push(`${path}: expected a boolean, got ${describe(value)}`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !Number.isInteger(value)) out.push(`${path}: expected an integer or a string, got ${describe(value)}`);
      return;
    case 'Date':
    case 'any':
    case 'object':
      return;
  }
  const attrs = attributesOf(type);
  if (!attrs) return void out.push(`${path}: no model for type ${type} (extend STRICT_CRD_TYPES)`);
  if (describe(value) !== 'object') return void out.push(`${path}: expected an object (${type}), got ${describe(value)}`);
  const known = new Map(attrs.map((attr) => [attr.baseName, attr.type]));
  for (const [key, child] of Object.entries(value as object)) {
    const childType = known.get(key);
    if (childType === undefined) out.push(`${path}.${key}: unknown field (not in ${type})`);
    else walk(child, childType, `${path}.${key}`, out);
  }
}

/** Fields the API does not define at their path, and JSON type mismatches. */
export function unknownFieldProblems(manifest: Manifest): string[] {
  const out: string[] = [];
  const crdKey = `${manifest.apiVersion}/${manifest.kind}`;
  const projectSchema = kindSchema(crdKey);
  if (projectSchema) {
    // Another project's kind (KEDA, VPA, Istio…): its package's schema, metadata as Kubernetes' own.
    const name = `${manifest.kind}/${manifest.metadata?.name}`;
    walk(manifest.metadata, 'V1ObjectMeta', `${name}.metadata`, out);
    schemaWalk(manifest, projectSchema, name, out);
    return out;
  }
  const root = crdKey in STRICT_CRD_TYPES ? crdKey : modelName(manifest.apiVersion, manifest.kind);
  if (!attributesOf(root)) return [`${manifest.kind} ${manifest.metadata?.name}: no strict model for ${crdKey}`];
  walk(manifest, root, `${manifest.kind}/${manifest.metadata?.name}`, out);
  return out;
}

type ModelClass = new (data: unknown) => { validate(): void };

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const project = group ? CRD_PACKAGES[group] : undefined;
  const mod: Record<string, unknown> =
    group === 'monitoring.coreos.com'
      ? await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1')
      : project
        ? await import(/* @vite-ignore */ `${project}/${group}/${version}`).catch(() => ({}))
        : await import(/* @vite-ignore */ `kubernetes-models/${group ? `${group}/` : ''}${version}`).catch(() => ({}));
  return mod[kind] as ModelClass | undefined;
}

/** Type, format and required-field problems per kubernetes-models. */
export async function schemaProblems(manifest: Manifest): Promise<string[]> {
  const Model = await modelClass(manifest.apiVersion, manifest.kind);
  if (!Model) return [`${manifest.kind} ${manifest.metadata?.name}: no schema for ${manifest.apiVersion} ${manifest.kind}`];
  try {
    new Model(manifest).validate();
    return [];
  } catch (err) {
    const details = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (details?.length) return details.map((e) => `${manifest.kind}/${manifest.metadata.name}${e.instancePath.replaceAll('/', '.')}: ${e.message ?? 'invalid'}`);
    return [`${manifest.kind}/${manifest.metadata.name}: ${err instanceof Error ? err.message : String(err)}`];
  }
}

/**
 * Every problem of one manifest (both checks). Empty means valid. Kinds with a CRD pinned from their
 * project (pinned-crds.ts: Velero's Schedule, Argo CD's Application) are checked against that CRD's
 * own schema, unknown fields refused (and against their kubernetes-models package where one exists).
 */
export async function manifestProblems(manifest: Manifest): Promise<string[]> {
  const pinned = pinnedCrdProblems(manifest);
  if (pinned) return pinned;
  return [...(await schemaProblems(manifest)), ...unknownFieldProblems(manifest)];
}
