/**
 * CustomResourceDefinitions of the operators the chart and `mmoctl gitops export` write objects for,
 * as their projects publish them at a pinned release (test/support/crds/*.json: source, tag, commit
 * and the sha256 of the original file inside; only the descriptions were removed). One schema serves
 * two checks: offline, `pinnedCrdProblems` validates an object against it with unknown fields
 * refused; on the rig, `ensurePinnedCrds` registers the same CRD, so the API server judges the object
 * by the project's own schema (and prunes or, with strict field validation, refuses unknown fields).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import * as k8s from '@kubernetes/client-node';
import { Application } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import { connectKube } from '../../cli/kube/connect.ts';
import { KubeError } from '../../cli/kube/kube.ts';
import type { Manifest } from './k8s-strict.ts';

const DIR = join(import.meta.dirname, 'crds');

/** `group/version/Kind` → the vendored file holding its CRD. */
export const PINNED_CRDS = {
  'velero.io/v1/Schedule': 'velero-schedules.json',
  'argoproj.io/v1alpha1/Application': 'argocd-applications.json',
} as const;
export type PinnedKind = keyof typeof PINNED_CRDS;

interface Vendored {
  source: { project: string; tag: string; commit: string; path: string };
  crd: k8s.V1CustomResourceDefinition;
}

const loaded = new Map<string, Vendored>();
function vendored(key: PinnedKind): Vendored {
  let v = loaded.get(key);
  if (!v) loaded.set(key, (v = JSON.parse(readFileSync(join(DIR, PINNED_CRDS[key]), 'utf8')) as Vendored));
  return v;
}

/** The pinned CRD of one kind (a fresh copy). */
export function pinnedCrd(key: PinnedKind): k8s.V1CustomResourceDefinition {
  return structuredClone(vendored(key).crd);
}

/** Where the pinned CRD of one kind comes from, for messages and docs. */
export function pinnedSource(key: PinnedKind): string {
  const s = vendored(key).source;
  return `${s.project} ${s.tag}`;
}

/**
 * The schema as a strict JSON schema: every object that lists its properties and does not preserve
 * unknown fields refuses others (what the API server would prune, or refuse with strict validation).
 */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== 'object') return node;
  const s = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, strict(pv)])) : strict(v)])) as Record<string, unknown>;
  if (s.type === 'object' && s.properties && s['x-kubernetes-preserve-unknown-fields'] !== true && s.additionalProperties === undefined) s.additionalProperties = false;
  // metadata is the API server's ObjectMeta whatever the CRD says.
  if (s.properties && typeof s.properties === 'object' && 'metadata' in (s.properties as object) && 'apiVersion' in (s.properties as object)) (s.properties as Record<string, unknown>).metadata = { type: 'object' };
  return s;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

/** The kubernetes-models classes of pinned kinds that have one (types, formats, required fields). */
const MODELS: Partial<Record<PinnedKind, new (data: unknown) => { validate(): void }>> = {
  'argoproj.io/v1alpha1/Application': Application as unknown as new (data: unknown) => { validate(): void },
};

/**
 * Problems of `m` against its pinned CRD (and its kubernetes-models class, where one exists);
 * undefined when no CRD is pinned for its kind.
 */
export function pinnedCrdProblems(m: Manifest): string[] | undefined {
  const [group, version] = m.apiVersion.split('/');
  const key = `${m.apiVersion}/${m.kind}` as PinnedKind;
  if (!(key in PINNED_CRDS)) return undefined;
  let validate = compiled.get(key);
  if (!validate) {
    const crd = vendored(key).crd;
    if (crd.spec.group !== group) throw new Error(`${PINNED_CRDS[key]} holds group ${crd.spec.group}, not ${group}`);
    const served = crd.spec.versions.find((v) => v.name === version && v.served);
    if (!served?.schema?.openAPIV3Schema) throw new Error(`${PINNED_CRDS[key]} serves no schema for ${m.apiVersion}`);
    compiled.set(key, (validate = ajv.compile(strict(served.schema.openAPIV3Schema) as object)));
  }
  const out = validate(m as unknown) ? [] : (validate.errors ?? []).map((e) => `${m.kind}/${m.metadata?.name}${e.instancePath.replaceAll('/', '.')}: ${e.message ?? 'invalid'}${e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : ''}`);
  const Model = MODELS[key];
  if (Model) {
    try {
      new Model(m).validate();
    } catch (err) {
      const details = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
      out.push(...(details?.length ? details.map((e) => `${m.kind}/${m.metadata.name}${e.instancePath.replaceAll('/', '.')}: ${e.message ?? 'invalid'} (kubernetes-models)`) : [`${m.kind}/${m.metadata.name}: ${String(err)}`]));
    }
  }
  return out;
}

/**
 * Registers the pinned CRDs of these kinds on a cluster and waits until each is established.
 * Created through mmoctl's own HTTPS client, which sends the JSON as the project wrote it
 * (client-node's typed API would drop the x-kubernetes-… keys it has other names for).
 * Idempotent and safe from several files at once; never removed (other runs reuse them).
 */
export async function ensurePinnedCrds(kubeconfig: string, keys: readonly PinnedKind[]): Promise<void> {
  const kube = await connectKube({ kubeconfig });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const key of keys) {
    const body = pinnedCrd(key);
    try {
      await kube.create(body);
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 409)) throw err;
    }
    const deadline = Date.now() + 20_000;
    for (;;) {
      const live = await api.readCustomResourceDefinition({ name: body.metadata!.name! });
      if (live.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${body.metadata!.name} (${pinnedSource(key)}) was not established within 20 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
