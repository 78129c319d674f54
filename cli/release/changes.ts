/**
 * What an upgrade changed, for people: images, replica counts and value keys, from the manifests and
 * user values of two revisions. Pure.
 */
import { COMPONENTS, LABELS } from '../../contract/labels.ts';
import { objectName, podTemplates, parseManifests } from '../manifests.ts';

export interface Changes {
  readonly images: readonly { readonly workload: string; readonly container: string; readonly from?: string; readonly to?: string }[];
  readonly replicas: readonly { readonly workload: string; readonly from?: number; readonly to?: number }[];
  /** Dotted keys whose user-supplied value differs (added, removed or changed). */
  readonly values: readonly string[];
  /** Objects added or removed (Kind/name). */
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export function diffReleases(before: { manifest?: string; config?: Record<string, unknown> }, after: { manifest?: string; config?: Record<string, unknown> }): Changes {
  const a = parseManifests(before.manifest ?? '');
  const b = parseManifests(after.manifest ?? '');
  const names = (list: typeof a) => new Set(list.map(objectName));
  const [na, nb] = [names(a), names(b)];
  const images: Changes['images'][number][] = [];
  const replicas: Changes['replicas'][number][] = [];
  const ta = new Map(podTemplates(a).map((t) => [objectName(t.owner), t]));
  for (const t of podTemplates(b)) {
    const name = objectName(t.owner);
    const old = ta.get(name);
    const oldImages = new Map([...(old?.template.spec.initContainers ?? []), ...(old?.template.spec.containers ?? [])].map((c) => [c.name, c.image]));
    for (const c of [...(t.template.spec.initContainers ?? []), ...t.template.spec.containers]) {
      if (oldImages.get(c.name) !== c.image) images.push({ workload: name, container: c.name, from: oldImages.get(c.name), to: c.image });
    }
    const from = (old?.owner.spec as { replicas?: number } | undefined)?.replicas;
    const to = (t.owner.spec as { replicas?: number } | undefined)?.replicas;
    if (old && from !== to) replicas.push({ workload: name, from, to });
  }
  return {
    images,
    replicas,
    values: changedKeys(before.config ?? {}, after.config ?? {}),
    added: [...nb].filter((n) => !na.has(n)),
    removed: [...na].filter((n) => !nb.has(n)),
  };
}

/** Dotted paths where two value trees differ (leaves, or whole subtrees added/removed). */
export function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isMap = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isMap(a) && isMap(b)) {
    const out: string[] = [];
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const key = prefix ? `${prefix}.${k.replace(/\./g, '\\.')}` : k.replace(/\./g, '\\.');
      const [x, y] = [a[k], b[k]];
      // A map added or removed whole is listed by its leaves, as a user wrote them (image.tag).
      if (!(k in a) && isMap(y)) out.push(...changedKeys({}, y, key));
      else if (!(k in b) && isMap(x)) out.push(...changedKeys(x, {}, key));
      else if (!(k in a) || !(k in b)) out.push(key);
      else out.push(...changedKeys(x, y, key));
    }
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(all values)'];
}

/** The game server version a manifest runs: the version label of its stable game server Deployment. */
export function gameServerVersion(manifest: string | undefined): string | undefined {
  const d = parseManifests(manifest ?? '').find((o) => o.kind === 'Deployment' && o.metadata.labels?.[LABELS.component] === COMPONENTS.gameServer && o.metadata.labels?.[LABELS.track] !== 'canary');
  return d?.metadata.labels?.[LABELS.version];
}

/** True when two manifests hold the same objects with the same content (order ignored). */
export function sameManifest(a: string | undefined, b: string | undefined): boolean {
  const canon = (text: string | undefined) => parseManifests(text ?? '').map((o) => stable(o)).sort();
  const [x, y] = [canon(a), canon(b)];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
