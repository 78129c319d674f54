/**
 * The permissions an install or upgrade needs, derived from the rendered objects: for each kind,
 * what helm does with it (create, read, patch, delete), what `--wait` watches, where helm keeps its
 * release records, and the namespace when mmoctl creates it. Pure: discovery answers are passed in.
 */
import type { AccessAnswer, AccessQuestion } from '../kube/kube.ts';
import { objectName, type Manifest } from '../manifests.ts';

/** How the API server serves a kind (plural name, scope), from discovery. */
export interface ResourceInfo {
  readonly group: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** A permission and why the release needs it. */
export interface Need extends AccessQuestion {
  readonly why: string;
}

/** helm applies objects with these verbs (read, create, three-way or server-side patch, delete). */
const MANAGE = ['get', 'create', 'patch', 'delete'] as const;
/** `--wait` and `mmoctl status` list and watch these. */
const WATCHED = [
  { group: 'apps', resource: 'deployments' },
  { group: 'apps', resource: 'replicasets' },
  { group: 'apps', resource: 'statefulsets' },
  { group: '', resource: 'pods' },
  { group: 'batch', resource: 'jobs' },
  { group: '', resource: 'services' },
  { group: '', resource: 'persistentvolumeclaims' },
] as const;

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

/**
 * Every permission the release needs in `namespace`. `resources` maps `apiVersion/Kind` to discovery's
 * answer; kinds it lacks are skipped here (the CRD check reports them).
 */
export function releaseNeeds(objects: readonly Manifest[], namespace: string, resources: ReadonlyMap<string, ResourceInfo>, opts: { createNamespace: boolean }): Need[] {
  const needs: Need[] = [];
  const seen = new Set<string>();
  const add = (n: Need) => {
    const id = `${n.verb} ${n.group}/${n.resource} ${n.namespace ?? ''}`;
    if (seen.has(id)) return;
    seen.add(id);
    needs.push(n);
  };
  for (const o of objects) {
    const r = resources.get(`${o.apiVersion}/${o.kind}`);
    if (!r) continue;
    for (const verb of MANAGE) add({ verb, group: r.group, resource: r.plural, namespace: r.namespaced ? namespace : undefined, why: `the release holds ${objectName(o)}` });
  }
  for (const verb of ['get', 'list', 'create', 'update', 'delete']) add({ verb, group: '', resource: 'secrets', namespace, why: 'helm keeps its release records in Secrets' });
  for (const w of WATCHED) for (const verb of ['list', 'watch']) add({ ...w, verb, namespace, why: '--wait watches workloads until they are ready' });
  add({ verb: 'list', group: '', resource: 'events', namespace, why: 'status reports warning events' });
  if (opts.createNamespace) add({ verb: 'create', group: '', resource: 'namespaces', why: `--create-namespace creates ${namespace}` });
  return needs;
}

/** The refused permissions, one line each: "create clusterroles.rbac.authorization.k8s.io (cluster-wide): the release holds ClusterRole/x". */
export function describeDenied(answers: readonly (AccessAnswer & Partial<Pick<Need, 'why'>>)[]): string[] {
  const byPermission = new Map<string, string[]>();
  for (const a of answers.filter((x) => !x.allowed)) {
    const res = a.group ? `${a.resource}.${a.group}` : a.resource;
    const key = `${a.verb} ${res} ${a.namespace ? `in namespace ${a.namespace}` : '(cluster-wide)'}`;
    const list = byPermission.get(key) ?? [];
    if (a.why && !list.includes(a.why)) list.push(a.why);
    byPermission.set(key, list);
  }
  return [...byPermission].map(([perm, whys]) => `${perm}${whys.length ? `: ${whys.slice(0, 2).join('; ')}${whys.length > 2 ? '; …' : ''}` : ''}`);
}
