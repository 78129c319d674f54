/**
 * What preflight checks read, each fetched at most once per run and shared: the values, the helm
 * release, the namespace, the rendered objects, nodes, pods and Services. Fetches are lazy, so a
 * check that is skipped never costs a request, and parallel checks wait on the same promise.
 */
import type { V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { LABELS } from '../../contract/labels.ts';
import { describeError } from '../errors.ts';
import { HelmError, type Helm, type HelmRelease, type ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import { isHook, parseManifests, type Manifest } from '../manifests.ts';
import { chartRequest, type ChartSource, type ValueInputs } from '../values/inputs.ts';
import { OPTIONAL_API_VERSIONS, parseChartFailure, validateValues, type ValidatedValues } from '../values/validate.ts';
import type { Values } from '../values/compute.ts';
import { groupOf, type ResourceInfo } from './access.ts';

export interface PreflightInput {
  readonly ref: ReleaseRef;
  readonly chart: ChartSource;
  readonly inputs: ValueInputs;
  /** The install will create the namespace when it is missing. */
  readonly createNamespace: boolean;
  /** Start from the release's last values (upgrade --reuse-values). */
  readonly reuseValues?: boolean;
  /** The command repairs a release left pending by an interrupted helm before it changes anything. */
  readonly repairsPending?: boolean;
  readonly helm: () => Promise<Helm>;
  readonly kube: () => Promise<Kube>;
}

/** The objects a release would hold, and how they were rendered. */
export interface Rendered {
  readonly objects: readonly Manifest[];
  /** Hook objects (migration Job and its ServiceAccount; test pods excluded). */
  readonly hooks: readonly Manifest[];
  /** `server`: helm's server-side dry run (lookups against the cluster); `offline`: helm template. */
  readonly how: 'server' | 'offline';
  readonly note?: string;
}

export class PreflightContext {
  readonly input: PreflightInput;
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(input: PreflightInput) {
    this.input = input;
  }

  get ref(): ReleaseRef {
    return this.input.ref;
  }

  private once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      p.catch(() => {});
      this.memo.set(key, p);
    }
    return p;
  }

  helm(): Promise<Helm> {
    return this.once('helm', () => this.input.helm());
  }

  kube(): Promise<Kube> {
    return this.once('kube', () => this.input.kube());
  }

  /** Values checked offline (schema and the chart's rules). */
  validated(): Promise<ValidatedValues> {
    return this.once('validated', async () => validateValues(await this.helm(), this.input.chart, this.input.inputs, this.ref));
  }

  /** The merged values (valid ones; callers run after the values check passed). */
  async values(): Promise<Values> {
    return (await this.validated()).values;
  }

  release(): Promise<HelmRelease | undefined> {
    return this.once('release', async () => (await this.helm()).status(this.ref));
  }

  namespace(): Promise<V1Namespace | undefined> {
    return this.once('namespace', async () => (await this.kube()).get('Namespace', this.ref.namespace));
  }

  nodes(): Promise<V1Node[]> {
    return this.once('nodes', async () => (await this.kube()).list('Node'));
  }

  /** Every pod of the cluster (capacity, host ports); rejects when the user may not list them. */
  allPods(): Promise<V1Pod[]> {
    return this.once('allPods', async () => (await this.kube()).list('Pod'));
  }

  allServices(): Promise<V1Service[]> {
    return this.once('allServices', async () => (await this.kube()).list('Service'));
  }

  /** True for objects that belong to this release (selected by its instance label, in its namespace). */
  ours(o: { metadata?: { namespace?: string; labels?: Record<string, string> } }): boolean {
    return o.metadata?.namespace === this.ref.namespace && o.metadata?.labels?.[LABELS.instance] === this.ref.release;
  }

  /**
   * The release's objects as helm would apply them: a server-side dry run of the upgrade (lookups see
   * the cluster, so generated Secrets and autoscaled replica counts are the live ones); when that is
   * not possible (no permission to read, a pending operation), an offline render for the cluster's
   * version and kinds.
   */
  rendered(): Promise<Rendered> {
    return this.once('rendered', async () => {
      const helm = await this.helm();
      // Not waiting for validation: the checks that read the result run after the values check
      // passed, and starting helm's dry run at once takes it off the critical path.
      const v = { request: chartRequest(this.input.chart, this.input.inputs) };
      const split = (text: string, hookTexts: readonly string[] = []) => {
        const all = parseManifests([text, ...hookTexts].join('\n---\n'));
        const testHook = (m: Manifest) => /(^|,)test(-success)?(,|$)/.test(String(m.metadata.annotations?.['helm.sh/hook'] ?? ''));
        return { objects: all.filter((m) => !isHook(m)), hooks: all.filter((m) => isHook(m) && !testHook(m)) };
      };
      try {
        const rel = await helm.apply(this.ref, v.request, { install: true, dryRun: true, wait: false, rollbackOnFailure: false, timeoutSeconds: 60, reuseValues: this.input.reuseValues });
        return { ...split(rel.manifest ?? '', rel.hooks ?? []), how: 'server' as const };
      } catch (err) {
        if (!(err instanceof HelmError)) throw err;
        // Rules that depend on the cluster (missing CRDs, the namespace's Pod Security level) have
        // checks of their own; render as if the cluster allowed them, so the other checks still run.
        const version = await (await this.kube()).version();
        const text = await helm.template(this.ref, v.request, { kubeVersion: version.gitVersion, apiVersions: OPTIONAL_API_VERSIONS });
        const refused = parseChartFailure(err.message);
        const why = refused.some((p) => p.key) ? `the chart refuses ${refused.length === 1 ? 'a value' : `${refused.length} values`} on this cluster; see the checks below` : (describeError(err).split('\n')[0] ?? '');
        return { ...split(text), how: 'offline' as const, note: `rendered offline: helm's server-side dry run failed (${why})` };
      }
    });
  }

  /** Discovery for every kind of the rendered objects: `apiVersion/Kind` → plural and scope. */
  resources(): Promise<Map<string, ResourceInfo>> {
    return this.once('resources', async () => {
      const kube = await this.kube();
      const r = await this.rendered();
      const kinds = new Map<string, { apiVersion: string; kind: string }>();
      for (const o of [...r.objects, ...r.hooks]) kinds.set(`${o.apiVersion}/${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind });
      const out = new Map<string, ResourceInfo>();
      await Promise.all(
        [...kinds].map(async ([id, k]) => {
          const res = await kube.resource(k.apiVersion, k.kind);
          if (res) out.set(id, { group: groupOf(k.apiVersion), plural: res.plural, namespaced: res.namespaced });
        }),
      );
      return out;
    });
  }
}
