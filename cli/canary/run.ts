/**
 * `mmoctl upgrade --canary`: the new game server version runs next to the stable one behind the
 * same Services (it takes a share of new players by replica count) and is judged, window after
 * window, on what players feel; then it is promoted (stable upgraded with a drain-aware rolling
 * update, canary removed) or aborted (the release rolled back to the revision before the canary:
 * stable never touched, the canary's players reconnect to stable).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, type ExitCode } from '../../contract/exit-codes.ts';
import { LABELS } from '../../contract/labels.ts';
import { FailedError, InvalidInputError } from '../errors.ts';
import { HelmError, type Helm, type HelmRelease, type ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import type { MetricsSource } from '../metrics/source.ts';
import { trackStats } from '../metrics/window.ts';
import { runPreflight } from '../checks/report.ts';
import type { ChartSource, ValueInputs } from '../values/inputs.ts';
import { chartRequest } from '../values/inputs.ts';
import { requireValidValues } from '../values/validate.ts';
import { chartValues } from '../values/view.ts';
import { gameServerVersion } from '../release/changes.ts';
import { drainCapacityWarning, observeRollout, snapshotGameServers, type RolloutReport } from '../release/rollout.ts';
import { CANARY_DEFAULTS, decide, judgeStep, type CanaryPolicy, type Decision, type StepVerdict } from './analysis.ts';
import type { TrackStats } from './analysis.ts';

export interface CanaryRequest {
  readonly ref: ReleaseRef;
  readonly chart: ChartSource;
  /** The values the release is promoted with (the new version among them). */
  readonly inputs: ValueInputs;
  /** Windows that must pass before promotion. */
  readonly steps: number;
  readonly intervalSeconds: number;
  /** Inconclusive windows (too few players) tolerated in all before aborting. */
  readonly maxExtensions: number;
  readonly canaryReplicas: number;
  /** Percent of new WebSocket players the Istio mesh sends to the canary (mesh.istio.canaryWeight); undefined: the replica ratio. */
  readonly canaryWeight?: number;
  readonly policy: CanaryPolicy;
  readonly timeoutSeconds: number;
  readonly skipPreflight: boolean;
}

export interface CanaryStep {
  readonly step: number;
  readonly windowSeconds: number;
  readonly canary: TrackStats;
  readonly stable: TrackStats;
  readonly verdict: StepVerdict;
  readonly decision: Decision;
}

export interface CanaryResult {
  readonly release: string;
  readonly namespace: string;
  readonly decision: 'promoted' | 'aborted';
  /** Why, in one sentence. */
  readonly reason: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly baseRevision: number;
  /** The revision after promotion, or after the rollback that removed the canary. */
  readonly revision?: number;
  readonly metrics: string;
  readonly steps: readonly CanaryStep[];
  readonly rollout?: RolloutReport;
  readonly warnings: readonly string[];
}

export interface CanaryDeps {
  readonly helm: Helm;
  readonly kube: Kube;
  /** undefined: no way to read game metrics — refused before anything starts. */
  readonly metrics: MetricsSource | undefined;
  /** Progress lines (stderr). */
  readonly say: (line: string) => void;
}

export function canaryExitCode(r: CanaryResult): ExitCode {
  return r.decision === 'promoted' ? EXIT.ok : EXIT.failed;
}

/** The version the canary runs: --version, or an image.tag set by the user. */
export function newVersion(inputs: ValueInputs): string | undefined {
  if (inputs.appVersion) return inputs.appVersion;
  for (const s of [...inputs.sets].reverse()) {
    const m = /(?:^|,)image\.tag=([^,]+)/.exec(s.value);
    if (m) return m[1];
  }
  return undefined;
}

export async function runCanary(req: CanaryRequest, deps: CanaryDeps): Promise<CanaryResult> {
  const { helm, kube, say, metrics } = deps;
  const { ref } = req;
  const to = newVersion(req.inputs);
  if (!to) throw new InvalidInputError('--canary needs the version to try: --version V (or --set image.tag=V).');
  if (!metrics) throw new FailedError('the canary is judged on the game servers\' metrics, and none can be read.', { hint: 'Give --prometheus-url, or grant `get pods/proxy` in the namespace so mmoctl can read each pod\'s /metrics.' });

  const base = await helm.status(ref);
  if (!base) throw new FailedError(`there is no release ${ref.release} in namespace ${ref.namespace} to upgrade.`, { hint: 'Install it first with `mmoctl install`.' });
  if (base.status !== 'deployed') throw new FailedError(`release ${ref.release} is ${base.status}; a canary starts from a deployed release.`, { hint: '`mmoctl rollback` or `mmoctl install` again repairs it first.' });
  const from = gameServerVersion(base.manifest) ?? base.appVersion;
  if (from === to) throw new InvalidInputError(`the release already runs game server ${to}; a canary of the same version proves nothing.`);

  // Values for the promotion are checked now, so a canary is never judged for values that cannot ship.
  const promote = await requireValidValues(helm, req.chart, { ...req.inputs, sets: [...req.inputs.sets, { flag: '--set', value: 'canary.enabled=false' }] }, ref);
  const playersPerPod = chartValues(promote.values).capacity.playersPerPod;
  // The release's current values with the canary added; a user's own canary.* settings (its labels,
  // resources) come along, the rest of the change waits for the promotion.
  // The release's own values (as given at its last install or upgrade), on this chart's defaults.
  const current = await helm.values(ref);
  if (req.canaryWeight !== undefined && !(current as { mesh?: { istio?: { enabled?: boolean } } }).mesh?.istio?.enabled) {
    throw new InvalidInputError(`--canary-weight ${req.canaryWeight} routes WebSocket players through the Istio mesh, which release ${ref.release} does not run (mesh.istio.enabled is false).`, {
      hint: 'Leave --canary-weight out to share players by replica count (--canary-replicas), or upgrade with --set mesh.istio.enabled=true first (docs/operations.md).',
    });
  }
  const canarySets = [
    ...req.inputs.sets.filter((s) => /^canary\./.test(s.value)),
    { flag: '--set' as const, value: 'canary.enabled=true' },
    { flag: '--set-string' as const, value: `canary.image.tag=${to}` },
    { flag: '--set' as const, value: `canary.replicas=${req.canaryReplicas}` },
    ...(req.canaryWeight === undefined ? [] : [{ flag: '--set' as const, value: `mesh.istio.canaryWeight=${req.canaryWeight}` }]),
  ];
  const dir = await mkdtemp(join(tmpdir(), 'mmoctl-canary-'));
  const currentFile = join(dir, 'current-values.json');
  await writeFile(currentFile, JSON.stringify(current));
  const canaryRequest = chartRequest(req.chart, { files: [currentFile], sets: canarySets });
  try {
    return await conduct(req, { ...deps, metrics }, { base, from, to, promote, canaryRequest, canarySets, playersPerPod });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Plan {
  readonly base: HelmRelease;
  readonly from: string;
  readonly to: string;
  readonly promote: Awaited<ReturnType<typeof requireValidValues>>;
  readonly canaryRequest: ReturnType<typeof chartRequest>;
  readonly canarySets: readonly { flag: '--set' | '--set-string' | '--set-json'; value: string }[];
  readonly playersPerPod: number;
}

/** Preflight, the canary, the windows, and the promotion or abort. */
async function conduct(req: CanaryRequest, deps: CanaryDeps & { metrics: MetricsSource }, plan: Plan): Promise<CanaryResult> {
  const { helm, kube, say, metrics } = deps;
  const { ref } = req;
  const { base, from, to, promote, canaryRequest, canarySets, playersPerPod } = plan;

  const warnings: string[] = [];
  if (!req.skipPreflight) {
    say('preflight of the promotion and of one more pod for the canary');
    const report = await runPreflight({ ref, chart: req.chart, inputs: { ...req.inputs, sets: [...req.inputs.sets, ...canarySets.map((s) => ({ ...s }))] }, createNamespace: false, helm: async () => helm, kube: async () => kube });
    if (report.summary.fail) {
      const failed = report.results.filter((r) => r.status === 'fail');
      throw new FailedError(`the canary did not start: ${failed.length} preflight ${failed.length === 1 ? 'check' : 'checks'} failed; nothing was changed.`, {
        problems: failed.map((r) => ({ key: r.id, message: `${r.description}: ${r.message ?? ''}`, fix: `see ${r.hint}` })),
      });
    }
    warnings.push(...report.results.filter((r) => r.status === 'warn').map((r) => `${r.description}: ${r.message ?? ''}`));
  }

  const steps: CanaryStep[] = [];
  const result = (decision: CanaryResult['decision'], reason: string, extra: Partial<CanaryResult> = {}): CanaryResult => ({
    release: ref.release, namespace: ref.namespace, decision, reason, fromVersion: from, toVersion: to, baseRevision: base.revision, metrics: metrics.describe, steps, warnings, ...extra,
  });
  const abort = async (reason: string): Promise<CanaryResult> => {
    say(`aborting: ${reason}; rolling back to revision ${base.revision} (stable untouched)`);
    await helm.rollback(ref, base.revision, { wait: true, timeoutSeconds: req.timeoutSeconds }).catch((err: unknown) => {
      throw new FailedError(`the canary was aborted (${reason}) but removing it failed: ${err instanceof HelmError ? err.message : String(err)}`, { hint: `\`mmoctl rollback ${base.revision}\` removes it.` });
    });
    await ensureCanaryGone(helm, kube, ref, base.revision, req.timeoutSeconds);
    const after = await helm.status(ref);
    return result('aborted', reason, { revision: after?.revision });
  };

  // 1. The canary next to stable, with the values stable runs (only the version differs). A canary
  // that crash-loops is stopped at once rather than after the whole timeout.
  say(`starting ${req.canaryReplicas} canary ${req.canaryReplicas === 1 ? 'pod' : 'pods'} of ${to} next to ${from}`);
  const crash = watchForCrashLoop(kube, ref);
  try {
    await helm.apply(ref, canaryRequest, { install: false, wait: true, rollbackOnFailure: true, timeoutSeconds: req.timeoutSeconds, description: `mmoctl canary ${to}`, signal: crash.signal });
  } catch (err) {
    if (!(err instanceof HelmError)) throw err;
    await ensureCanaryGone(helm, kube, ref, base.revision, req.timeoutSeconds);
    const now = await helm.status(ref).catch(() => undefined);
    const timedOut = /deadline exceeded|timed out|not ready/i.test(err.message);
    const why = crash.reason ?? (timedOut ? `the canary never became ready within ${req.timeoutSeconds} s (${err.message.split('\n')[0]})` : `helm could not start the canary: ${err.message}`);
    return result('aborted', why, { revision: now?.revision });
  } finally {
    crash.stop();
  }

  // 2. Windows, judged one by one.
  const verdicts: StepVerdict[] = [];
  for (let n = 1; ; n++) {
    const before = (await snapshotGameServers(kube, metrics, ref)).snapshot;
    await sleep(req.intervalSeconds * 1000);
    const after = (await snapshotGameServers(kube, metrics, ref)).snapshot;
    const canary = trackStats('canary', before, after);
    const stable = trackStats('stable', before, after);
    const verdict = judgeStep(canary, stable, req.policy);
    verdicts.push(verdict);
    const decision = decide(verdicts, req.steps, req.maxExtensions);
    steps.push({ step: n, windowSeconds: req.intervalSeconds, canary, stable, verdict, decision });
    say(stepLine(steps.at(-1)!, req.steps));
    if (decision === 'abort') {
      const failedJ = verdict.judgements.filter((j) => j.outcome === 'fail');
      const reason = failedJ.length ? failedJ.map((j) => `${j.metric}: ${j.why}`).join('; ') : `too few players to judge the canary in ${verdicts.filter((v) => v.outcome === 'inconclusive').length} windows`;
      return abort(reason);
    }
    if (decision === 'promote') break;
  }

  // 3. Promotion: stable takes the new version with a rolling update; each pod drains its players.
  const { snapshot } = await snapshotGameServers(kube, metrics, ref);
  const stablePods = snapshot.pods.filter((p) => p.track === 'stable' && p.ready);
  const players = [...snapshot.samples.values()].reduce((a, s) => a + ('samples' in s ? s.samples.filter((x) => x.name === 'game_server_active_players').reduce((b, x) => b + x.value, 0) : 0), 0);
  const capacity = drainCapacityWarning(players, stablePods.length, playersPerPod);
  if (capacity) warnings.push(capacity);
  say(`promoting ${to}: a rolling update of ${stablePods.length} stable ${stablePods.length === 1 ? 'pod' : 'pods'}, each draining its players`);
  const watch = observeRollout(kube, metrics, ref);
  let promoted: HelmRelease;
  try {
    promoted = await helm.apply(ref, promote.request, { install: false, wait: true, rollbackOnFailure: true, timeoutSeconds: req.timeoutSeconds, description: `mmoctl canary ${to} promoted` });
  } catch (err) {
    const rollout = await watch.stop();
    if (!(err instanceof HelmError)) throw err;
    return abort(`the promotion failed and helm rolled it back (${err.message.split('\n')[0]})`).then((r) => ({ ...r, rollout }));
  }
  const rollout = await watch.stop();
  return result('promoted', `${steps.filter((s) => s.verdict.outcome === 'pass').length} windows passed`, { revision: promoted.revision, rollout });
}

const CRASH_RESTARTS = 3;

/** Polls the canary's pods while helm waits; aborts (as Ctrl-C would) when one crash-loops. */
function watchForCrashLoop(kube: Kube, ref: ReleaseRef): { signal: AbortSignal; reason?: string; stop(): void } {
  const ac = new AbortController();
  const state: { signal: AbortSignal; reason?: string; stop(): void } = { signal: ac.signal, stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    kube
      .list('Pod', { namespace: ref.namespace, labelSelector: `${LABELS.instance}=${ref.release},${LABELS.track}=canary` })
      .then((pods) => {
        for (const p of pods) {
          const c = p.status?.containerStatuses?.find((x) => x.name === 'server');
          if ((c?.restartCount ?? 0) >= CRASH_RESTARTS || c?.state?.waiting?.reason === 'CrashLoopBackOff') {
            state.reason = `the canary crash-loops: ${p.metadata?.name} restarted ${c?.restartCount ?? 0} times${c?.state?.waiting?.reason ? ` (${c.state.waiting.reason})` : ''}`;
            clearInterval(timer);
            ac.abort();
            return;
          }
        }
      })
      .catch(() => {});
  }, 2000);
  return state;
}

/** After an abort the canary Deployment must be gone; helm 4 can leave it behind its rollback. */
async function ensureCanaryGone(helm: Helm, kube: Kube, ref: ReleaseRef, baseRevision: number, timeoutSeconds: number): Promise<void> {
  const left = await kube.list('Deployment', { namespace: ref.namespace, labelSelector: `${LABELS.instance}=${ref.release},${LABELS.track}=canary` }).catch(() => []);
  if (left.length) await helm.rollback(ref, baseRevision, { wait: true, timeoutSeconds });
}

/** One line per window for the progress log. */
export function stepLine(s: CanaryStep, of: number): string {
  const c = s.canary;
  const st = s.stable;
  const p95 = (x: number | null) => (x === null ? '-' : `${Math.round(x)} ms`);
  const head = `window ${s.step} (${s.windowSeconds} s, ${s.verdict.outcome}${s.decision === 'extend' ? ', extended' : ''}; ${s.step}/${of}+)`;
  const nums = `canary ${c.players} players p95 ${p95(c.ackP95Ms)} tick p99 ${p95(c.tickP99Ms)} | stable ${st.players} players p95 ${p95(st.ackP95Ms)} tick p99 ${p95(st.tickP99Ms)}`;
  const bad = s.verdict.judgements.filter((j) => j.outcome !== 'pass').map((j) => `${j.metric}: ${j.why}`);
  return `${head}: ${nums}${bad.length ? ` — ${bad.join('; ')}` : ''}`;
}

export { CANARY_DEFAULTS };
