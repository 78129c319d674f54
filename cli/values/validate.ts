/**
 * `mmoctl values validate` and the first step of install, upgrade and preflight: read the inputs,
 * let helm merge them, check the schema, then let the chart's own cross-field rules run (its
 * `validate.yaml` gathers every broken rule into one failure). Every problem comes back at once,
 * each with its key, where it was written, and a fix.
 */
import { OPERATIONS_API_VERSIONS } from '../../contract/kubernetes.ts';
import { InvalidInputError, describeError, type Problem } from '../errors.ts';
import { HelmError, type ChartRequest, type Helm, type ReleaseRef } from '../helm/helm.ts';
import { chartRequest, readValueSources, type ChartSource, type ValueInputs, type ValueSources } from './inputs.ts';
import { computeValues, type Values } from './compute.ts';
import { ValuesSchema } from './schema.ts';

/**
 * Kubernetes version offline renders assume (the chart needs ≥ 1.27); a command that reaches a
 * cluster renders for the cluster's own version instead.
 */
export const OFFLINE_KUBE_VERSION = '1.33.0';

/**
 * The optional operators' kinds the values may ask for: prometheus-operator's, and Velero's Schedule
 * (backup.velero). Offline renders say the cluster serves them so that validation judges the values,
 * not the cluster; preflight and the chart itself check the cluster's kinds on install.
 */
export const MONITORING_API_VERSIONS = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule', 'velero.io/v1/Schedule'] as const;

/**
 * Every kind of another project the chart may create (prometheus-operator's, Velero's, KEDA's, VPA's, Istio's):
 * offline renders and the cluster's own dry run judge the values with all of them; preflight's
 * `cluster.crds` check tells which the cluster lacks.
 */
export const OPTIONAL_API_VERSIONS: readonly string[] = [...MONITORING_API_VERSIONS, ...OPERATIONS_API_VERSIONS];

export interface ValidatedValues {
  readonly request: ChartRequest;
  readonly sources: ValueSources;
  /** The merged values helm computed (chart defaults included). */
  readonly values: Values;
  /** Empty when the values are valid. */
  readonly problems: readonly Problem[];
}

/** Reads, merges and checks the inputs; never throws for a bad value — it returns the problems. */
export async function validateValues(helm: Pick<Helm, 'template'>, chart: ChartSource, inputs: ValueInputs, ref: ReleaseRef): Promise<ValidatedValues> {
  const sources = await readValueSources(inputs);
  const request = chartRequest(chart, inputs);
  const appVersionClash = inputs.appVersion && inputs.sets.some((s) => /(^|,)image\.tag=/.test(s.value));
  if (appVersionClash) {
    return { request, sources, values: {}, problems: [{ key: 'image.tag', source: `--version ${inputs.appVersion}`, message: '--version and a --set of image.tag both choose the game server version', fix: 'keep one of them' }] };
  }
  // The chart's own rules run at the same time as the merge and the schema check; they count only
  // when the schema passes (helm checks the schema first, so their failure would repeat it).
  const crossField = crossFieldProblems(helm, request, ref, sources);
  crossField.catch(() => {});
  let values: Values;
  try {
    values = await computeValues(helm, request);
  } catch (err) {
    const message = err instanceof HelmError ? err.message : describeError(err);
    return { request, sources, values: {}, problems: [{ source: '--set', message: `helm could not merge the values: ${message}`, fix: "check the --set syntax: key=value, lists as key={a,b}, a dot inside a key as \\. (see `helm install --help`)" }] };
  }
  const schema = await ValuesSchema.forChart(chart.dir);
  const schemaProblems = schema?.problems(values, sources) ?? [];
  if (schemaProblems.length) return { request, sources, values, problems: schemaProblems };
  return { request, sources, values, problems: await crossField };
}

/** Like validateValues, but invalid values are an error (exit 2) listing every problem. */
export async function requireValidValues(helm: Pick<Helm, 'template'>, chart: ChartSource, inputs: ValueInputs, ref: ReleaseRef): Promise<ValidatedValues> {
  const v = await validateValues(helm, chart, inputs, ref);
  if (v.problems.length) throw invalidValues(v.problems);
  return v;
}

export function invalidValues(problems: readonly Problem[]): InvalidInputError {
  return new InvalidInputError(`The values are not valid (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}); nothing was sent to the cluster.`, {
    problems,
    hint: 'Every value is described in docs/values.md; `mmoctl values show` prints the merged values.',
  });
}

/** The chart's own rules (templates/validate.yaml), run by rendering it offline. */
async function crossFieldProblems(helm: Pick<Helm, 'template'>, request: ChartRequest, ref: ReleaseRef, sources: ValueSources): Promise<Problem[]> {
  try {
    await helm.template(ref, request, { kubeVersion: OFFLINE_KUBE_VERSION, apiVersions: OPTIONAL_API_VERSIONS });
    return [];
  } catch (err) {
    if (!(err instanceof HelmError)) throw err;
    return parseChartFailure(err.message).map((p) => {
      const src = p.key ? sources.sourceOf(p.key) : undefined;
      return src ? { ...p, source: src.label } : p;
    });
  }
}

/**
 * The problems in a failed render. The chart lists broken rules one per line, each starting with the
 * key (`  - gameServer.replicas (0) is … Fix: --set …`); any other failure is one problem as helm said it.
 */
export function parseChartFailure(message: string): Problem[] {
  const listed = /The values are not valid \(\d+ problems?\):\n([\s\S]*)/.exec(message);
  if (!listed) return [{ message: message.replace(/^execution error at \([^)]*\):\s*/, '').trim() }];
  const problems: Problem[] = [];
  for (const line of listed[1]!.split('\n')) {
    const m = /^\s+- (\S+)\s+([\s\S]*)$/.exec(line);
    if (!m) {
      const last = problems.at(-1);
      if (last && line.trim()) problems[problems.length - 1] = { ...last, message: `${last.message} ${line.trim()}` };
      continue;
    }
    const [, key, rest] = m;
    const fixAt = rest!.lastIndexOf(' Fix: ');
    const text = fixAt >= 0 ? rest!.slice(0, fixAt) : rest!;
    problems.push({ key: key!.replace(/[:,]$/, ''), message: `${key} ${text}`.replace(/\.$/, ''), fix: fixAt >= 0 ? rest!.slice(fixAt + 6).trim() : undefined });
  }
  return problems;
}
