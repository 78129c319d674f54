/**
 * Rollback and uninstall. Uninstall keeps what a reinstall needs to find the players' data — the
 * data services' volumes and the generated credentials they were initialised with — unless purged.
 */
import type { V1PersistentVolumeClaim, V1Secret } from '@kubernetes/client-node';
import { LABELS } from '../../contract/labels.ts';
import { FailedError, InvalidInputError } from '../errors.ts';
import { HelmError, type Helm, type HelmRelease, type ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import { parseManifests } from '../manifests.ts';
import { runSteps, type ProgressOptions, type StepRecord } from '../ui/progress.ts';
import { gameServerVersion } from './changes.ts';
import { verifyRelease, type Verification } from './verify.ts';

export interface RollbackResult {
  readonly release: string;
  readonly namespace: string;
  /** The revision that was current before. */
  readonly from: number;
  /** The revision whose configuration now runs. */
  readonly to: number;
  /** The new revision helm recorded for the rollback. */
  readonly revision: number;
  readonly appVersion?: string;
  readonly verification: Verification;
  readonly steps: readonly StepRecord[];
}

/** Rolls back to `revision`, or to the last good revision before the current one. */
export async function rollbackRelease(helm: Helm, kube: () => Promise<Kube>, ref: ReleaseRef, revision: number | undefined, opts: { timeoutSeconds: number; progress: ProgressOptions }): Promise<RollbackResult> {
  const ctx: { current?: HelmRelease; target?: number; after?: HelmRelease; verification?: Verification } = {};
  const steps = await runSteps(
    [
      {
        title: 'Read the release',
        async run() {
          const [current, history] = await Promise.all([helm.status(ref), helm.history(ref)]);
          if (!current) throw new FailedError(`there is no release ${ref.release} in namespace ${ref.namespace}.`, { hint: 'Name it with -n and --release; `helm list -A` lists releases.' });
          ctx.current = current;
          if (revision !== undefined) {
            if (!history.some((h) => h.revision === revision)) throw new InvalidInputError(`revision ${revision} does not exist; the release has ${history.map((h) => h.revision).join(', ')}.`, { hint: '`mmoctl history` lists them.' });
            if (revision === current.revision && current.status === 'deployed') throw new InvalidInputError(`revision ${revision} is the current one; nothing to roll back to.`, { hint: '`mmoctl history` lists the revisions.' });
            ctx.target = revision;
          } else {
            const earlier = history.filter((h) => h.revision < current.revision && (h.status === 'superseded' || h.status === 'deployed'));
            const good = earlier.at(-1);
            if (!good) throw new FailedError(`release ${ref.release} has no earlier good revision to roll back to (revisions: ${history.map((h) => `${h.revision} ${h.status}`).join(', ')}).`, { hint: 'Run `mmoctl install` again to repair a first install.' });
            ctx.target = good.revision;
          }
          return `Revision ${current.revision} is ${current.status}; rolling back to revision ${ctx.target}`;
        },
      },
      {
        title: 'Roll back',
        async run() {
          try {
            await helm.rollback(ref, ctx.target!, { wait: true, timeoutSeconds: opts.timeoutSeconds });
          } catch (err) {
            if (err instanceof HelmError) throw new FailedError(`helm rollback failed: ${err.message}`, { hint: '`mmoctl status` shows what is not ready.', cause: err });
            throw err;
          }
          ctx.after = await helm.status(ref);
          return `Rolled back: revision ${ctx.after?.revision} runs revision ${ctx.target}'s configuration`;
        },
      },
      {
        title: 'Verify',
        async run() {
          ctx.verification = await verifyRelease(await kube(), helm, ref, { test: false, settleSeconds: 30, timeoutSeconds: opts.timeoutSeconds });
          if (!ctx.verification.ok) throw new FailedError(`rolled back, but not serving: ${ctx.verification.problems.join('; ')}.`, { hint: '`mmoctl status` shows each workload.' });
          return `Verified: ${ctx.verification.workloads.length} workloads ready`;
        },
      },
    ],
    ctx,
    opts.progress,
  );
  return {
    release: ref.release,
    namespace: ref.namespace,
    from: ctx.current!.revision,
    to: ctx.target!,
    revision: ctx.after!.revision,
    appVersion: gameServerVersion(ctx.after?.manifest) ?? ctx.after?.appVersion,
    verification: ctx.verification!,
    steps,
  };
}

export interface UninstallResult {
  readonly release: string;
  readonly namespace: string;
  readonly purged: boolean;
  /** Volumes and Secrets left in place (empty when purged). */
  readonly kept: { readonly persistentVolumeClaims: readonly string[]; readonly secrets: readonly string[] };
  /** Volumes and Secrets deleted by --purge. */
  readonly deleted: { readonly persistentVolumeClaims: readonly string[]; readonly secrets: readonly string[] };
  readonly steps: readonly StepRecord[];
}

/** Uninstalls; with `purge`, also deletes the release's volumes and kept Secrets. */
export async function uninstallRelease(helm: Helm, kube: () => Promise<Kube>, ref: ReleaseRef, opts: { purge: boolean; timeoutSeconds: number; progress: ProgressOptions }): Promise<UninstallResult> {
  const ctx: { statefulSets: string[]; pvcs: V1PersistentVolumeClaim[]; secrets: V1Secret[]; deleted: { pvcs: string[]; secrets: string[] } } = { statefulSets: [], pvcs: [], secrets: [], deleted: { pvcs: [], secrets: [] } };
  const steps = await runSteps(
    [
      {
        title: 'Read the release',
        async run() {
          const current = await helm.status(ref);
          if (!current) throw new FailedError(`there is no release ${ref.release} in namespace ${ref.namespace}.`, { hint: 'Name it with -n and --release.' });
          ctx.statefulSets = parseManifests(current.manifest ?? '').filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name);
          return `Release ${ref.release} revision ${current.revision} (${current.status})`;
        },
      },
      {
        title: 'Uninstall',
        async run() {
          await helm.uninstall(ref, { wait: true, timeoutSeconds: opts.timeoutSeconds });
          return `Uninstalled ${ref.release} from ${ref.namespace}`;
        },
      },
      {
        title: 'Volumes and credentials',
        async run() {
          const k = await kube();
          const [pvcs, secrets] = await Promise.all([k.list('PersistentVolumeClaim', { namespace: ref.namespace }), k.list('Secret', { namespace: ref.namespace, labelSelector: `${LABELS.instance}=${ref.release}` })]);
          ctx.pvcs = pvcs.filter((p) => p.metadata?.labels?.[LABELS.instance] === ref.release || ctx.statefulSets.some((s) => new RegExp(`^[a-z0-9-]+-${s}-\\d+$`).test(p.metadata?.name ?? '')));
          ctx.secrets = secrets.filter((s) => s.type !== 'helm.sh/release.v1');
          if (!opts.purge) return `Kept ${ctx.pvcs.length} volumes and ${ctx.secrets.length} Secrets (--purge deletes them)`;
          for (const p of ctx.pvcs) if (await k.delete('PersistentVolumeClaim', p.metadata!.name!, ref.namespace)) ctx.deleted.pvcs.push(p.metadata!.name!);
          for (const s of ctx.secrets) if (await k.delete('Secret', s.metadata!.name!, ref.namespace)) ctx.deleted.secrets.push(s.metadata!.name!);
          return `Purged ${ctx.deleted.pvcs.length} volumes and ${ctx.deleted.secrets.length} Secrets`;
        },
      },
    ],
    ctx,
    opts.progress,
  );
  const names = <T extends { metadata?: { name?: string } }>(list: T[]) => list.map((x) => x.metadata!.name!).sort();
  return {
    release: ref.release,
    namespace: ref.namespace,
    purged: opts.purge,
    kept: opts.purge ? { persistentVolumeClaims: [], secrets: [] } : { persistentVolumeClaims: names(ctx.pvcs), secrets: names(ctx.secrets) },
    deleted: { persistentVolumeClaims: ctx.deleted.pvcs.sort(), secrets: ctx.deleted.secrets.sort() },
    steps,
  };
}
