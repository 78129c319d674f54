/**
 * `mmoctl gitops export`: hands a release to Argo CD. Writes the chart `mmoctl install` would apply
 * (the bundled one, or --chart's), a values file holding exactly what the user's inputs change from
 * the chart's defaults (so Argo CD's `helm template` renders what install would), and an Argo CD
 * Application that syncs them from the Git repository they are committed to.
 *
 * Rendering with `helm template` differs from an install in two ways the values must say:
 * `gameServer.autoscaling.setReplicas: false` (the autoscaler owns replicas; `lookup` sees nothing),
 * and every credential comes from an existing Secret (the chart refuses generated ones there, naming
 * the keys, because each sync would generate them anew).
 */
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { InvalidInputError } from '../errors.ts';
import type { Helm, ReleaseRef } from '../helm/helm.ts';
import { podSecurityLabels } from '../release/namespace.ts';
import { computeValues, type Values } from '../values/compute.ts';
import type { ChartSource, ValueInputs } from '../values/inputs.ts';
import { requireValidValues } from '../values/validate.ts';
import { chartValues, podSecurityLevel } from '../values/view.ts';

/** The value GitOps renders need, set after every input. */
export const GITOPS_SET = 'gameServer.autoscaling.setReplicas=false';

export interface ExportRequest {
  readonly ref: ReleaseRef;
  readonly chart: ChartSource;
  readonly inputs: ValueInputs;
  /** The Git repository Argo CD reads. */
  readonly repoUrl: string;
  /** Folder of the repository holding the chart and the values file. */
  readonly path: string;
  /** Branch, tag or commit Argo CD follows. */
  readonly revision: string;
  /** Name of the Application. */
  readonly appName: string;
  /** Namespace Argo CD runs in (where Applications live). */
  readonly argoNamespace: string;
  readonly project: string;
  /** API server of the cluster the release goes to, as Argo CD knows it. */
  readonly destinationServer: string;
  /** Let Argo CD create the namespace, with the Pod Security labels the values need. */
  readonly createNamespace: boolean;
  /** Sync on every change of the repository, pruning and self-healing. */
  readonly autoSync: boolean;
  /** Local checkout of the repository: files are written at `<out>/<path>` and `<out>/<application file>`. */
  readonly outDir: string;
}

export interface ExportResult {
  readonly release: string;
  readonly namespace: string;
  readonly application: { readonly name: string; readonly namespace: string; readonly file: string };
  readonly chartDir: string;
  readonly valuesFile: string;
  readonly repoUrl: string;
  readonly path: string;
  readonly revision: string;
  readonly podSecurity: string;
  /** The Application object written. */
  readonly manifest: Record<string, unknown>;
}

/** Values of `full` that differ from `defaults`: a file that, over the defaults, gives `full` (null removes a default, as helm reads it). */
export function overrides(full: Values, defaults: Values): Values {
  const out: Values = {};
  for (const [k, v] of Object.entries(full)) {
    const d = defaults[k];
    if (isMap(v) && isMap(d)) {
      const inner = overrides(v, d);
      if (Object.keys(inner).length) out[k] = inner;
    } else if (JSON.stringify(v) !== JSON.stringify(d)) out[k] = v;
  }
  for (const k of Object.keys(defaults)) if (!(k in full)) out[k] = null;
  return out;
}

const isMap = (x: unknown): x is Values => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The relative folder inside the repository, refusing what would leave it. */
function repoPath(path: string): string {
  const clean = path.replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (!clean || clean.startsWith('/') || clean.split('/').some((s) => s === '..' || s === '')) {
    throw new InvalidInputError(`--path ${path}: not a folder inside the repository.`, { hint: 'Give a relative path such as deploy/mmo (the folder Argo CD reads the chart from).' });
  }
  return clean;
}

/** Writes the chart, the values file and the Application; validates first (nothing is written for invalid values). */
export async function exportGitops(helm: Pick<Helm, 'template'>, req: ExportRequest): Promise<ExportResult> {
  const path = repoPath(req.path);
  if (!/^(https?|ssh):\/\/\S+$|^[\w.-]+@[\w.-]+:\S+$/.test(req.repoUrl)) {
    throw new InvalidInputError(`--repo-url ${req.repoUrl}: not a Git repository URL.`, { hint: 'Give the URL Argo CD clones, such as https://github.com/studio/deploy.git or git@github.com:studio/deploy.git.' });
  }
  const inputs: ValueInputs = { ...req.inputs, sets: [...req.inputs.sets, { flag: '--set', value: GITOPS_SET }] };
  const validated = await requireValidValues(helm, req.chart, inputs, req.ref);
  const defaults = await computeValues(helm, { chart: req.chart, valueFiles: [], sets: [] });
  const own = overrides(validated.values, defaults);

  const out = resolve(req.outDir);
  const chartDir = join(out, path);
  if (existsSync(chartDir)) {
    const entries = await readdir(chartDir);
    const ours = existsSync(join(chartDir, 'Chart.yaml')) && /^name:\s*mmo\s*$/m.test(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'));
    if (entries.length && !ours) throw new InvalidInputError(`--path ${path}: ${chartDir} exists and holds something other than this chart; nothing was written.`, { hint: 'Choose an empty folder, or one an earlier export wrote.' });
    // An earlier export: replace it whole, so templates a newer chart dropped do not linger.
    await rm(chartDir, { recursive: true, force: true });
  }
  await mkdir(chartDir, { recursive: true });
  await cp(req.chart.dir, chartDir, { recursive: true });
  const valuesName = `values-${req.ref.release}.yaml`;
  const valuesFile = join(chartDir, valuesName);
  const from = [inputs.profile ? `--profile ${inputs.profile}` : '', ...inputs.files.map((f) => `-f ${f}`), ...inputs.sets.map((s) => `${s.flag} ${s.value}`), inputs.appVersion ? `--version ${inputs.appVersion}` : ''].filter(Boolean).join(' ');
  await writeFile(valuesFile, `# Written by \`mmoctl gitops export\` from: ${from}\n# What these inputs change from the chart's defaults (values.yaml beside it); Argo CD renders the chart with it.\n${stringify(own, { lineWidth: 0 })}`);

  const level = podSecurityLevel(chartValues(validated.values));
  const manifest = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: req.appName, namespace: req.argoNamespace, labels: { 'app.kubernetes.io/part-of': 'mmo', 'app.kubernetes.io/managed-by': 'mmoctl' } },
    spec: {
      project: req.project,
      source: { repoURL: req.repoUrl, targetRevision: req.revision, path, helm: { releaseName: req.ref.release, valueFiles: [valuesName], skipTests: true } },
      destination: { server: req.destinationServer, namespace: req.ref.namespace },
      syncPolicy: {
        ...(req.autoSync ? { automated: { prune: true, selfHeal: true } } : {}),
        ...(req.createNamespace ? { syncOptions: ['CreateNamespace=true'], managedNamespaceMetadata: { labels: podSecurityLabels(level) } } : {}),
      },
    },
  };
  const appFile = join(out, `${req.appName}.application.yaml`);
  await writeFile(appFile, `# Apply once to the cluster Argo CD runs on: kubectl apply -f ${relative(process.cwd(), appFile) || appFile}\n${stringify(manifest, { lineWidth: 0 })}`);
  return {
    release: req.ref.release,
    namespace: req.ref.namespace,
    application: { name: req.appName, namespace: req.argoNamespace, file: appFile },
    chartDir,
    valuesFile,
    repoUrl: req.repoUrl,
    path,
    revision: req.revision,
    podSecurity: level,
    manifest,
  };
}
