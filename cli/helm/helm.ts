/**
 * The `Helm` interface the CLI's services use, and its one real implementation: the helm binary
 * (3.14+ or 4.x) run with execa. Services take a `Helm` in their constructor, so unit tests pass a
 * hand-written fake and integration tests the real binary against the rig.
 */
import type { Complete } from '../errors.ts';
import type { ChartSource } from '../values/inputs.ts';

/** One release in one namespace. */
export interface ReleaseRef {
  readonly release: string;
  readonly namespace: string;
}

/** Release states helm records (`helm status`): the CLI reads `deployed`, `failed` and `pending-*`. */
export type ReleaseStatus =
  | 'unknown'
  | 'deployed'
  | 'uninstalled'
  | 'superseded'
  | 'failed'
  | 'uninstalling'
  | 'pending-install'
  | 'pending-upgrade'
  | 'pending-rollback';

/** What helm knows about the current revision of a release. */
export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
  readonly revision: number;
  readonly status: ReleaseStatus;
  /** Chart name and version, `mmo-0.2.0`. */
  readonly chart: string;
  readonly chartVersion: string;
  readonly appVersion: string;
  /** ISO time of the last install, upgrade or rollback. */
  readonly updated: string;
  readonly description: string;
  /** The rendered manifests (hooks excluded), when helm returned them. */
  readonly manifest?: string;
  /** Hook manifests (migration Job, test pod), when helm returned them. */
  readonly hooks?: readonly string[];
  /** The user-supplied values of this revision. */
  readonly config?: Record<string, unknown>;
  readonly notes?: string;
}

/** One line of `helm history`. */
export interface HelmRevision {
  readonly revision: number;
  readonly updated: string;
  readonly status: ReleaseStatus;
  readonly chart: string;
  readonly appVersion: string;
  readonly description: string;
  /** The game server version the revision ran (its Deployment's version label), when known. */
  readonly gameServer?: string;
}

/** Everything that decides a render: the chart and the values layered on it, in helm's order. */
export interface ChartRequest {
  readonly chart: ChartSource;
  /** `--values` files, in order (presets first). */
  readonly valueFiles: readonly string[];
  /** `--set`, `--set-string`, `--set-json` arguments, in the order the user gave them. */
  readonly sets: readonly SetArg[];
}

export interface SetArg {
  readonly flag: '--set' | '--set-string' | '--set-json';
  readonly value: string;
}

export interface TemplateOptions {
  /** Kubernetes version to render for (`--kube-version`); default helm's own. */
  readonly kubeVersion?: string;
  /** Kinds the cluster is said to serve (`--api-versions`). */
  readonly apiVersions?: readonly string[];
  /** Also render `templates/tests`. Default true. */
  readonly includeTests?: boolean;
  /** Render templates only (`--show-only`), by path inside the chart. */
  readonly showOnly?: readonly string[];
}

export interface ApplyOptions {
  /** Create the release when it does not exist (`upgrade --install`). */
  readonly install: boolean;
  /** Server-side dry run: render with lookups against the cluster, change nothing. */
  readonly dryRun?: boolean;
  /** Wait for every resource to be ready; with `rollbackOnFailure`, undo a failed change. */
  readonly wait: boolean;
  readonly rollbackOnFailure: boolean;
  readonly timeoutSeconds: number;
  /** Start from the release's last values (`--reuse-values`). */
  readonly reuseValues?: boolean;
  readonly description?: string;
  /**
   * Aborting stops helm as Ctrl-C would (SIGINT): helm then undoes what it started when
   * `rollbackOnFailure` is set, and the call rejects once helm has exited.
   */
  readonly signal?: AbortSignal;
}

export interface WaitOptions {
  readonly wait: boolean;
  readonly timeoutSeconds: number;
}

/** Result of `helm test`. */
export interface HelmTestResult {
  readonly ok: boolean;
  /** helm's report (test pods and phases) or its error. */
  readonly output: string;
}

/** The helm operations mmoctl needs. */
export interface Helm {
  /** The binary behind this runner. */
  readonly binary: HelmBinary;
  /** Renders the chart offline (`helm template`); rejects with helm's message. */
  template(ref: ReleaseRef, req: ChartRequest, opts?: TemplateOptions): Promise<string>;
  /** The release's current revision, or undefined when there is no such release. */
  status(ref: ReleaseRef): Promise<HelmRelease | undefined>;
  /** Every revision helm still records, oldest first; [] when there is no such release. */
  history(ref: ReleaseRef): Promise<HelmRevision[]>;
  /** Values of a revision (default the current): user-supplied, or all computed ones with `all`. */
  values(ref: ReleaseRef, opts?: { all?: boolean; revision?: number }): Promise<Record<string, unknown>>;
  /** The rendered manifests of a revision (default the current). */
  manifest(ref: ReleaseRef, revision?: number): Promise<string>;
  /** Installs or upgrades; resolves with the resulting release (manifest and hooks included). */
  apply(ref: ReleaseRef, req: ChartRequest, opts: ApplyOptions): Promise<HelmRelease>;
  /** Rolls back to `revision` (0: the previous one). */
  rollback(ref: ReleaseRef, revision: number, opts: WaitOptions): Promise<void>;
  /** Removes the release (helm keeps PVCs that StatefulSets created). */
  uninstall(ref: ReleaseRef, opts: WaitOptions): Promise<void>;
  /** Runs the chart's test pods (`helm test`). */
  test(ref: ReleaseRef, opts: { timeoutSeconds: number }): Promise<HelmTestResult>;
  /** Downloads a chart from a repository or OCI registry and unpacks it under `dest`. */
  pull(ref: string, version: string | undefined, dest: string): Promise<void>;
}

/** A helm binary and the version it reports. */
export interface HelmBinary {
  readonly path: string;
  /** As helm prints it, `v3.18.0`. */
  readonly version: string;
  readonly major: 3 | 4;
}

/** A helm command that failed; `message` is helm's own error, without its "Error: " prefix. */
export class HelmError extends Error implements Complete {
  readonly complete = true;
  readonly args: readonly string[];
  readonly exitCode: number | undefined;

  constructor(message: string, args: readonly string[], exitCode: number | undefined) {
    super(message);
    this.name = 'HelmError';
    this.args = args;
    this.exitCode = exitCode;
  }
}

/** helm's stderr reduced to what it says went wrong. */
export function helmMessage(stderr: string): string {
  return stderr
    .split('\n')
    // helm 4 also logs structured lines (level=WARN msg=…) that repeat what its error says.
    .filter((l) => !/^Use --debug flag to render out invalid YAML$/.test(l.trim()) && !/^(walk\.go|install\.go|upgrade\.go):\d+/.test(l.trim()) && !/^(time=\S+ )?level=[A-Z]+ msg=/.test(l.trim()))
    .join('\n')
    .replace(/^Error: /gm, '')
    .trim();
}

/** True when helm says the release does not exist. */
export function isReleaseNotFound(message: string): boolean {
  return /release: not found|has no deployed releases|not found/i.test(message) && !/chart.*not found/i.test(message);
}

/** Normalizes `helm status -o json` / `upgrade -o json` (helm 3 and 4 write the same release record). */
export function parseRelease(json: string): HelmRelease {
  const r = JSON.parse(json) as {
    name: string;
    namespace: string;
    version: number;
    info?: { status?: string; last_deployed?: string; description?: string; notes?: string };
    chart?: { metadata?: { name?: string; version?: string; appVersion?: string } };
    manifest?: string;
    hooks?: { manifest?: string }[];
    config?: Record<string, unknown> | null;
  };
  const meta = r.chart?.metadata ?? {};
  return {
    name: r.name,
    namespace: r.namespace,
    revision: r.version,
    status: (r.info?.status ?? 'unknown') as ReleaseStatus,
    chart: `${meta.name ?? '?'}-${meta.version ?? '?'}`,
    chartVersion: meta.version ?? '',
    appVersion: meta.appVersion ?? '',
    updated: r.info?.last_deployed ?? '',
    description: r.info?.description ?? '',
    manifest: r.manifest,
    hooks: r.hooks?.map((h) => h.manifest ?? '').filter(Boolean),
    config: r.config ?? {},
    notes: r.info?.notes,
  };
}

/** Normalizes `helm history -o json`. */
export function parseHistory(json: string): HelmRevision[] {
  const rows = JSON.parse(json) as { revision: number; updated: string; status: string; chart: string; app_version: string; description: string }[];
  return rows.map((r) => ({
    revision: r.revision,
    updated: r.updated,
    status: r.status as ReleaseStatus,
    chart: r.chart,
    appVersion: r.app_version,
    description: r.description,
  }));
}
