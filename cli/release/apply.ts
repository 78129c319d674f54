/**
 * `mmoctl install` and `mmoctl upgrade`: validate → preflight → repair an interrupted release →
 * namespace → plan (server-side dry run, compared with what runs) → helm install/upgrade with
 * automatic rollback, waiting → verify (workloads, endpoints, `helm test`) → where players connect.
 * The same input twice changes nothing the second time, and says so. A failure at any step before
 * helm leaves the cluster untouched; a failed or interrupted helm step leaves the previous revision
 * serving (helm rolls back) and says what to run next.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Service } from '@kubernetes/client-node';
import { FailedError, InvalidInputError, type Problem } from '../errors.ts';
import { HelmError, type Helm, type HelmRelease, type ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import { objectName, parseManifests, podTemplates } from '../manifests.ts';
import { preflightDocument, renderPreflight, runPreflight, type PreflightReport } from '../checks/report.ts';
import { runSteps, type ProgressOptions, type StepRecord } from '../ui/progress.ts';
import type { ChartSource, ValueInputs } from '../values/inputs.ts';
import { requireValidValues, type ValidatedValues } from '../values/validate.ts';
import { chartValues, podSecurityLevel, type ChartValues } from '../values/view.ts';
import { diffReleases, gameServerVersion, sameManifest, type Changes } from './changes.ts';
import { gameServerSelector, playerEndpoints, type PlayerEndpoints } from './endpoints.ts';
import { ensureNamespace, type NamespaceOutcome } from './namespace.ts';
import { drainCapacityWarning, observeRollout, snapshotGameServers, type RolloutReport } from './rollout.ts';
import { chooseMetricsSource } from '../metrics/choose.ts';
import { playersByPod } from '../metrics/window.ts';
import { verifyRelease, type Verification } from './verify.ts';
import type { PlayersProbe } from '../probe/players.ts';

export interface ApplyRequest {
  readonly mode: 'install' | 'upgrade';
  readonly ref: ReleaseRef;
  readonly chart: ChartSource;
  readonly inputs: ValueInputs;
  readonly createNamespace: boolean;
  /** Show what would change; change nothing. */
  readonly dryRun: boolean;
  readonly skipPreflight: boolean;
  readonly timeoutSeconds: number;
  /** Wait until a LoadBalancer game Service has an address before reporting endpoints. */
  readonly waitForPlayersEndpoint: boolean;
  /** upgrade --reuse-values */
  readonly reuseValues: boolean;
  /** After verify, join one bot over TCP and one over UDP at this address (or the one found). */
  readonly probePlayers?: { readonly url?: string };
}

export interface ApplyDeps {
  readonly helm: Helm;
  readonly kube: () => Promise<Kube>;
  readonly progress: ProgressOptions;
  /** Stops the helm step as Ctrl-C would; defaults to the process's SIGINT. */
  readonly interrupt?: AbortSignal;
}

/** What the objects of a dry run would do to the cluster. */
export interface Plan {
  readonly create: readonly string[];
  readonly update: readonly string[];
  readonly unchanged: readonly string[];
  readonly remove: readonly string[];
}

export interface ApplyResult {
  readonly action: 'installed' | 'upgraded' | 'unchanged' | 'dry-run';
  readonly release: string;
  readonly namespace: string;
  readonly revision?: number;
  readonly previousRevision?: number;
  readonly status?: string;
  readonly chart?: string;
  readonly appVersion?: string;
  readonly namespaceState?: NamespaceOutcome & { readonly willCreate?: boolean };
  readonly preflight?: { readonly summary: PreflightReport['summary']; readonly warnings: readonly string[] };
  readonly repaired?: string;
  /** Said before or during the change (a drain the other pods could not hold). */
  readonly warnings?: readonly string[];
  readonly changes?: Changes;
  readonly plan?: Plan;
  readonly verification?: Verification;
  readonly endpoints?: PlayerEndpoints;
  /** Game servers replaced by the upgrade, with the players each drained. */
  readonly rollout?: RolloutReport;
  /** The players' path, joined by two bots (--probe-players). */
  readonly probe?: PlayersProbe;
  readonly steps: readonly StepRecord[];
}

/** Preflight stopped the command; carries the report so it can be shown in full. */
export class PreflightFailed extends FailedError {
  readonly report: PreflightReport;

  constructor(report: PreflightReport, what: string) {
    const failed = report.results.filter((r) => r.status === 'fail');
    const problems: Problem[] = failed.map((r) => ({ key: r.id, message: `${r.description}: ${r.message ?? 'failed'}`, fix: `see ${r.hint}` }));
    super(`${what} stopped: ${failed.length} preflight ${failed.length === 1 ? 'check' : 'checks'} failed; nothing was changed.`, {
      problems,
      hint: 'Fix what the failed checks say and run it again; `mmoctl preflight` repeats the checks alone.',
      details: { document: { preflight: preflightDocument(report) }, human: (s) => renderPreflight(report, s) },
    });
    this.report = report;
  }
}

interface Ctx {
  valid?: ValidatedValues;
  values?: ChartValues;
  kube?: Kube;
  current?: HelmRelease;
  planned?: HelmRelease;
  unchanged?: boolean;
  result: { -readonly [K in keyof ApplyResult]?: ApplyResult[K] };
}

export async function applyRelease(req: ApplyRequest, deps: ApplyDeps): Promise<ApplyResult> {
  const { helm, ref } = { helm: deps.helm, ref: req.ref };
  const verb = req.mode === 'install' ? 'install' : 'upgrade';
  const ctx: Ctx = { result: { release: ref.release, namespace: ref.namespace } };
  const kube = async () => (ctx.kube ??= await deps.kube());

  const steps = await runSteps<Ctx>(
    [
      {
        title: 'Check the values',
        async run(c) {
          c.valid = await requireValidValues(helm, req.chart, req.inputs, ref);
          c.values = chartValues(c.valid.values);
          const from = [...(req.inputs.profile ? [`profile ${req.inputs.profile}`] : []), ...req.inputs.files, ...(req.inputs.sets.length ? [`${req.inputs.sets.length} --set`] : [])];
          return `Values are valid${from.length ? ` (${from.join(', ')})` : ' (chart defaults)'}`;
        },
      },
      {
        title: 'Preflight checks',
        skip: () => (req.skipPreflight ? '--skip-preflight' : false),
        async run(c) {
          const report = await runPreflight({ ref, chart: req.chart, inputs: req.inputs, createNamespace: req.createNamespace, reuseValues: req.reuseValues, repairsPending: !req.dryRun, helm: async () => helm, kube });
          const warnings = report.results.filter((r) => r.status === 'warn').map((r) => `${r.description}: ${r.message ?? ''}`);
          c.result.preflight = { summary: report.summary, warnings };
          if (report.summary.fail) throw new PreflightFailed(report, verb);
          return `Preflight passed (${report.summary.pass} checks${warnings.length ? `, ${warnings.length} ${warnings.length === 1 ? 'warning' : 'warnings'}` : ''}${report.summary.skip ? `, ${report.summary.skip} not applicable` : ''})`;
        },
      },
      {
        title: 'Read the release',
        async run(c, report) {
          c.current = await helm.status(ref);
          if (req.mode === 'upgrade' && !c.current) {
            throw new FailedError(`there is no release ${ref.release} in namespace ${ref.namespace} to upgrade.`, { hint: `Install it with \`mmoctl install -n ${ref.namespace} --release ${ref.release}\`, or name the right one with -n and --release.` });
          }
          if (!c.current) return `No release ${ref.release} yet: it will be installed`;
          if (/^pending-/.test(c.current.status) && !req.dryRun) {
            c.result.repaired = await repairInterrupted(helm, ref, c.current, req.timeoutSeconds, (t) => report.output(t));
            c.current = await helm.status(ref);
            return `Repaired: ${c.result.repaired}`;
          }
          return `Release ${ref.release} is at revision ${c.current.revision} (${c.current.status}, ${c.current.chart}, game server ${gameServerVersion(c.current.manifest) ?? c.current.appVersion})`;
        },
      },
      {
        title: 'Namespace',
        async run(c) {
          const level = podSecurityLevel(c.values!);
          const k = await kube();
          if (req.dryRun) {
            const ns = await k.get('Namespace', ref.namespace);
            c.result.namespaceState = ns
              ? { name: ref.namespace, created: false, podSecurity: ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'] }
              : { name: ref.namespace, created: false, willCreate: req.createNamespace, podSecurity: level };
            return ns ? `Namespace ${ref.namespace} exists` : `Namespace ${ref.namespace} would be created with Pod Security "${level}"`;
          }
          const ns = await ensureNamespace(k, ref.namespace, level, req.createNamespace);
          if (!ns) throw new InvalidInputError(`namespace ${ref.namespace} does not exist.`, { hint: 'Add --create-namespace to create it, or choose an existing one with -n.' });
          c.result.namespaceState = ns;
          if (!ns.created) return `Namespace ${ns.name} exists${ns.podSecurity ? ` (Pod Security "${ns.podSecurity}")` : ''}`;
          const why = level === 'privileged' ? `udp.mode ${c.values!.udp.mode} needs host ${c.values!.udp.mode === 'hostPort' ? 'ports' : 'networking'}` : 'every pod of the chart passes it';
          return `Namespace ${ns.name} created with Pod Security "${level}" enforced (${why})`;
        },
      },
      {
        title: 'Plan the change (server-side dry run)',
        async run(c) {
          try {
            c.planned = await helm.apply(ref, c.valid!.request, { install: true, dryRun: true, wait: false, rollbackOnFailure: false, timeoutSeconds: req.timeoutSeconds, reuseValues: req.reuseValues });
          } catch (err) {
            if (req.dryRun && err instanceof HelmError && !c.current) {
              // A namespace that does not exist yet cannot take a server-side dry run.
              c.planned = undefined;
              const text = await helm.template(ref, c.valid!.request, { includeTests: false });
              c.result.plan = { create: parseManifests(text).map(objectName), update: [], unchanged: [], remove: [] };
              return `Would create ${c.result.plan.create.length} objects (rendered offline: ${err.message.split('\n')[0]})`;
            }
            throw err;
          }
          const planned = c.planned;
          const current = c.current?.status === 'deployed' ? c.current : undefined;
          c.unchanged = Boolean(current && sameManifest(current.manifest, planned.manifest) && sameValues(current.config, planned.config) && current.chart === planned.chart);
          c.result.plan = plan(current?.manifest, planned.manifest);
          if (c.current) c.result.changes = diffReleases(c.current, planned);
          const p = c.result.plan;
          if (c.unchanged) return `No change: revision ${current!.revision} already runs these values and this chart`;
          return `Plan: ${p.create.length} to create, ${p.update.length} to change, ${p.remove.length} to delete, ${p.unchanged.length} unchanged`;
        },
      },
      {
        title: req.mode === 'install' ? 'Install' : 'Upgrade',
        skip: (c) => (req.dryRun ? '--dry-run' : c.unchanged ? 'nothing to change' : false),
        async run(c, report) {
          const own = deps.interrupt ? undefined : sigint(() => report.output('Interrupted: waiting for helm to undo what it started…'));
          const t0 = Date.now();
          // An upgrade replaces game servers one at a time: watch each drain, and say first when the
          // others could not hold its players.
          const watch = c.current ? await watchGameServers(await kube(), ref, c.values!, (w) => {
            c.result.warnings = [...(c.result.warnings ?? []), w];
            report.output(w);
          }) : undefined;
          try {
            const rel = await helm.apply(ref, c.valid!.request, {
              install: true,
              wait: true,
              rollbackOnFailure: true,
              timeoutSeconds: req.timeoutSeconds,
              reuseValues: req.reuseValues,
              description: `mmoctl ${verb}`,
              signal: deps.interrupt ?? own!.signal,
            });
            c.result.revision = rel.revision;
            c.result.status = rel.status;
            if (watch) c.result.rollout = await watch.stop();
            const moved = c.result.rollout?.replaced.filter((d) => d.track === 'stable') ?? [];
            return `${c.current ? 'Upgraded' : 'Installed'}: revision ${rel.revision} ${rel.status} (${Math.round((Date.now() - t0) / 1000)} s)${moved.length ? `; ${moved.length} game servers drained` : ''}`;
          } catch (err) {
            if (watch) c.result.rollout = await watch.stop();
            throw await afterFailure(helm, await kube(), ref, c.current, err, verb, req.timeoutSeconds);
          } finally {
            own?.dispose();
          }
        },
      },
      {
        title: 'Verify: workloads ready, Services with endpoints, helm test',
        skip: () => (req.dryRun ? '--dry-run' : false),
        async run(c) {
          const v = await verifyRelease(await kube(), helm, ref, { test: true, settleSeconds: Math.min(60, req.timeoutSeconds), timeoutSeconds: req.timeoutSeconds });
          c.result.verification = v;
          if (!v.ok) {
            throw new FailedError(`the release is ${c.unchanged ? 'unchanged but' : 'applied but'} not serving: ${v.problems.join('; ')}.`, {
              hint: `\`mmoctl status -n ${ref.namespace} --release ${ref.release}\` shows each workload; \`mmoctl rollback\` returns to the previous revision.`,
            });
          }
          return `Verified: ${v.workloads.length} workloads ready, ${v.services.length} Services with endpoints${v.test?.ok ? ', helm test passed' : ''}`;
        },
      },
      {
        title: 'Where players connect',
        skip: () => (req.dryRun ? '--dry-run' : false),
        async run(c, report) {
          const k = await kube();
          const name = await gameServiceName(k, ref);
          const deadline = Date.now() + req.timeoutSeconds * 1000;
          let service = name ? await k.get('Service', name, ref.namespace) : undefined;
          while (req.waitForPlayersEndpoint && service?.spec?.type === 'LoadBalancer' && !service.status?.loadBalancer?.ingress?.length && Date.now() < deadline) {
            report.title(`Waiting for the LoadBalancer ${name} to get an address`);
            await sleep(2000);
            service = await k.get('Service', name!, ref.namespace);
          }
          const [nodes, pods] = await Promise.all([k.list('Node').catch(() => []), k.list('Pod', { namespace: ref.namespace, labelSelector: gameServerSelector(ref.release) })]);
          c.result.endpoints = playerEndpoints(c.values!, service, nodes, pods, ref.namespace);
          if (req.waitForPlayersEndpoint && !c.result.endpoints.tcp.length) throw new FailedError(`the game Service ${name} got no address within ${req.timeoutSeconds} s.`, { hint: 'Check the cloud load balancer controller; `kubectl describe service` shows its events.' });
          return c.result.endpoints.tcp.length ? `Players connect at ${c.result.endpoints.tcp[0]}` : 'Players\' address: pending';
        },
      },
      {
        title: 'Prove the players\' path: a bot over TCP, one over UDP',
        skip: () => (req.dryRun ? '--dry-run' : !req.probePlayers ? 'not asked (--probe-players)' : false),
        async run(c) {
          const e = c.result.endpoints!;
          const url = req.probePlayers?.url ?? e.tcp.map((u) => u.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/ws$/, '')).find((u) => !/\.svc[:/]/.test(u));
          if (!url) throw new FailedError('the players\' path cannot be probed from here: the game is reachable in the cluster only.', { hint: 'Give the address players use with --players-url.' });
          const { probePlayers } = await import('../probe/players.ts');
          const probe = await probePlayers({ url, udp: e.udp.addresses.length > 0 || e.udp.mode === 'relay', udpAddress: e.udp.addresses[0] ? `${e.udp.addresses[0].address}:${e.udp.port}` : undefined, timeoutMs: 8000 });
          c.result.probe = probe;
          const bad = probe.probes.flatMap((p) => p.hops.filter((h) => !h.ok).map((h) => `${p.transport === 'ws' ? 'TCP' : 'UDP'} ${h.hop}: ${h.detail}`));
          if (bad.length) throw new FailedError(`the release is serving, but a bot could not play: ${bad.join('; ')}.`, { hint: '`mmoctl status --probe-players` repeats the probe; docs/networking.md explains each UDP mode\'s path.' });
          return `Players' path proven: ${probe.probes.map((p) => `${p.transport === 'ws' ? 'TCP' : 'UDP'} ${p.hops.at(-1)?.detail ?? ''}`).join(', ')}`;
        },
      },
    ],
    ctx,
    deps.progress,
  );
  const current = ctx.current;
  return {
    ...ctx.result,
    action: req.dryRun ? 'dry-run' : ctx.unchanged ? 'unchanged' : current ? 'upgraded' : 'installed',
    release: ref.release,
    namespace: ref.namespace,
    revision: ctx.result.revision ?? (ctx.unchanged ? current?.revision : undefined),
    previousRevision: current && !ctx.unchanged ? current.revision : undefined,
    status: ctx.result.status ?? (ctx.unchanged ? current?.status : undefined),
    chart: ctx.planned?.chart ?? current?.chart,
    appVersion: gameServerVersion(ctx.planned?.manifest ?? current?.manifest) ?? ctx.planned?.appVersion ?? current?.appVersion,
    steps,
  };
}

function sameValues(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a ?? {})) === JSON.stringify(sortKeys(b ?? {}));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** Which objects a planned manifest creates, changes, keeps or removes compared with the current one. */
export function plan(current: string | undefined, planned: string | undefined): Plan {
  const index = (text: string | undefined) => new Map(parseManifests(text ?? '').map((o) => [objectName(o), JSON.stringify(sortKeys(o))]));
  const [a, b] = [index(current), index(planned)];
  const out = { create: [] as string[], update: [] as string[], unchanged: [] as string[], remove: [] as string[] };
  for (const [name, body] of b) (a.has(name) ? (a.get(name) === body ? out.unchanged : out.update) : out.create).push(name);
  for (const name of a.keys()) if (!b.has(name)) out.remove.push(name);
  return out;
}

/**
 * A release left pending by an interrupted helm (Ctrl-C, a lost connection): a first install that
 * never finished is removed (its kept Secrets and volumes stay, so the next install finds them);
 * an interrupted upgrade or rollback is rolled back to the last deployed revision.
 */
async function repairInterrupted(helm: Helm, ref: ReleaseRef, current: HelmRelease, timeoutSeconds: number, say: (line: string) => void): Promise<string> {
  const history = await helm.history(ref);
  const lastDeployed = [...history].reverse().find((r) => r.status === 'deployed' || r.status === 'superseded');
  if (current.status === 'pending-install' || !lastDeployed) {
    say(`revision ${current.revision} is ${current.status} and nothing was ever deployed: removing it before installing again`);
    await helm.uninstall(ref, { wait: true, timeoutSeconds });
    return `removed the interrupted first install (revision ${current.revision}, ${current.status})`;
  }
  say(`revision ${current.revision} is ${current.status}: rolling back to revision ${lastDeployed.revision}`);
  await helm.rollback(ref, lastDeployed.revision, { wait: true, timeoutSeconds });
  return `rolled the interrupted revision ${current.revision} (${current.status}) back to revision ${lastDeployed.revision}`;
}

/** The error of a failed helm step, saying what now serves. */
async function afterFailure(helm: Helm, kube: Kube, ref: ReleaseRef, before: HelmRelease | undefined, err: unknown, verb: string, timeoutSeconds: number): Promise<Error> {
  if (!(err instanceof HelmError)) return err as Error;
  let now = await helm.status(ref).catch(() => undefined);
  // Trust, but check: helm 4.1 can record a rollback after an interrupted upgrade while the
  // workloads keep the new pod template. Apply the rolled-back revision again when they differ.
  let reapplied = '';
  if (now?.status === 'deployed' && before && now.revision !== before.revision) {
    const drift = await workloadDrift(kube, ref, now.manifest).catch(() => []);
    if (drift.length) {
      await helm.rollback(ref, now.revision, { wait: true, timeoutSeconds }).catch(() => {});
      const fixed = await helm.status(ref).catch(() => undefined);
      reapplied = ` helm had left ${drift.join(', ')} on the failed revision's pod template; mmoctl applied revision ${now.revision} again${fixed ? ` (now revision ${fixed.revision})` : ''}.`;
      now = fixed ?? now;
    }
  }
  const interrupted = /was interrupted/.test(err.message);
  const helmSaid = err.message.replace(/^helm \w+ was interrupted: /, '').split('\n').slice(0, 6).join(' ');
  const rolledBack = Boolean(before && now && now.status === 'deployed' && now.revision !== before.revision);
  const state = now
    ? rolledBack
      ? `helm rolled back: revision ${now.revision} runs revision ${before!.revision}'s configuration again.`
      : `The release is now at revision ${now.revision} (${now.status}).`
    : before
      ? 'The release could not be read afterwards.'
      : 'Nothing of it remains installed (helm removed the failed install); kept Secrets and volumes stay for the next attempt.';
  const stuck = now && /^pending-/.test(now.status);
  const hint = stuck
    ? `Run the same \`mmoctl ${verb}\` again (it repairs the release first) or \`mmoctl rollback\`; \`mmoctl preflight -n ${ref.namespace} --release ${ref.release}\` names the state.`
    : interrupted
      ? `Nothing is left half-done; run the ${verb} again when ready.`
      : `\`mmoctl status -n ${ref.namespace} --release ${ref.release}\` shows what did not become ready.`;
  return new FailedError(`${interrupted ? `${verb} interrupted` : `helm ${verb} failed`}: ${helmSaid} ${state}${reapplied}`, { hint, cause: err });
}

/** Workloads whose live containers run other images than `manifest` says ("Deployment/x"). */
async function workloadDrift(kube: Kube, ref: ReleaseRef, manifest: string | undefined): Promise<string[]> {
  const drift: string[] = [];
  for (const t of podTemplates(parseManifests(manifest ?? '').filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet'))) {
    const kind = t.owner.kind as 'Deployment' | 'StatefulSet';
    const live = await kube.get(kind, t.owner.metadata.name, ref.namespace);
    const images = (spec: { containers?: { image?: string }[] } | undefined) => (spec?.containers ?? []).map((c) => c.image).join(',');
    if (live && images(live.spec?.template.spec) !== images(t.template.spec)) drift.push(objectName(t.owner));
  }
  return drift;
}

/** Starts watching the game servers an upgrade replaces; warns (via `warn`) when a drain would not fit. */
async function watchGameServers(kube: Kube, ref: ReleaseRef, values: ChartValues, warn: (w: string) => void): Promise<{ stop(): Promise<RolloutReport> }> {
  const chosen = await chooseMetricsSource(kube, ref.namespace, { monitoringNamespace: (values as { monitoring?: { namespace?: string } }).monitoring?.namespace }).catch(() => ({ source: undefined }));
  const { snapshot } = await snapshotGameServers(kube, chosen.source, ref).catch(() => ({ snapshot: undefined }));
  if (snapshot) {
    const players = [...playersByPod(snapshot).values()].reduce<number>((a, v) => a + (v ?? 0), 0);
    const w = drainCapacityWarning(players, snapshot.pods.filter((p) => p.ready && p.track === 'stable').length, values.capacity.playersPerPod);
    if (w) warn(w);
  }
  return observeRollout(kube, chosen.source, ref);
}

/** An AbortSignal fired by the first Ctrl-C while the helm step runs (a second one exits at once). */
function sigint(onFirst: () => void): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const handler = () => {
    if (ac.signal.aborted) process.exit(1);
    onFirst();
    ac.abort();
  };
  process.on('SIGINT', handler);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', handler) };
}

async function gameServiceName(kube: Kube, ref: ReleaseRef): Promise<string | undefined> {
  const services: V1Service[] = await kube.list('Service', { namespace: ref.namespace, labelSelector: gameServerSelector(ref.release) });
  return services.find((s) => (s.spec?.ports ?? []).some((p) => p.name === 'game'))?.metadata?.name;
}

