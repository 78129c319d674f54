/**
 * `mmoctl backup now` and `mmoctl restore --from`: find the release's backup CronJob, start a Job
 * from it (jobs.ts), and — unless told not to — wait for it to finish, reporting its log.
 */
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { FailedError, InvalidInputError } from '../errors.ts';
import type { ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import { BACKUP_CONTAINER, backupJob, backupSelector, restoreJob } from './jobs.ts';

export interface RunResult {
  readonly release: string;
  readonly namespace: string;
  readonly cronJob: string;
  readonly job: string;
  /** `backup`: the dump file the Job writes; `restore`: the dump it loads (a name, or `latest`). */
  readonly dump: string;
  /** `created` when not waited for; else how the Job ended. */
  readonly state: 'created' | 'succeeded' | 'failed';
  /** Seconds from creation to the end (when waited for). */
  readonly seconds?: number;
  /** The last lines of the Job's pod log (when waited for). */
  readonly log?: string;
}

export interface RunOptions {
  /** Wait for the Job to finish (seconds); undefined returns once it is created. */
  readonly waitSeconds?: number;
  /** Time source and sleep, for tests. */
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Seconds between looks at the Job. */
  readonly pollSeconds?: number;
}

/** The release's backup CronJob; fails saying how to turn dumps on when there is none. */
export async function findBackupCronJob(kube: Kube, ref: ReleaseRef): Promise<V1CronJob> {
  const found = await kube.list('CronJob', { namespace: ref.namespace, labelSelector: backupSelector(ref.release) });
  if (!found.length) {
    throw new FailedError(`release ${ref.release} in namespace ${ref.namespace} has no backup CronJob: backup.pgDump is off (or the release does not exist).`, {
      hint: 'Turn scheduled dumps on with `--set backup.pgDump.enabled=true` on `mmoctl upgrade` (or install); docs/backups.md says what they cover.',
    });
  }
  return found[0]!;
}

/** Starts a dump now. */
export async function backupNow(kube: Kube, ref: ReleaseRef, opts: RunOptions = {}): Promise<RunResult> {
  const cron = await findBackupCronJob(kube, ref);
  const { job, dump } = backupJob(cron, (opts.now ?? (() => new Date()))());
  return start(kube, ref, cron, job, dump, opts);
}

/** Starts a restore of `from` (a dump on the backup volume, or `latest`). */
export async function restoreNow(kube: Kube, ref: ReleaseRef, from: string, opts: RunOptions = {}): Promise<RunResult> {
  if (from !== 'latest' && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(from)) {
    throw new InvalidInputError(`--from ${from}: not a dump name. A dump is named as \`mmoctl backup now\` prints it (game-mmo-20261204T040000Z.dump), or latest.`, { hint: 'The dumps on the volume are listed in the log of any backup or failed restore Job.' });
  }
  const cron = await findBackupCronJob(kube, ref);
  return start(kube, ref, cron, restoreJob(cron, from, (opts.now ?? (() => new Date()))()), from, opts);
}

async function start(kube: Kube, ref: ReleaseRef, cron: V1CronJob, job: V1Job, dump: string, opts: RunOptions): Promise<RunResult> {
  const now = opts.now ?? (() => new Date());
  const base = { release: ref.release, namespace: ref.namespace, cronJob: cron.metadata!.name!, job: job.metadata!.name!, dump };
  const t0 = now().getTime();
  await kube.create(job);
  if (opts.waitSeconds === undefined) return { ...base, state: 'created' };
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const deadline = t0 + opts.waitSeconds * 1000;
  for (;;) {
    const live = await kube.get('Job', job.metadata!.name!, ref.namespace);
    const ended = live?.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (ended) {
      const result: RunResult = { ...base, state: ended.type === 'Complete' ? 'succeeded' : 'failed', seconds: Math.round((now().getTime() - t0) / 1000), log: await jobLog(kube, ref.namespace, job.metadata!.name!) };
      return result;
    }
    if (now().getTime() >= deadline) {
      throw new FailedError(`Job ${ref.namespace}/${job.metadata!.name} has not finished after ${opts.waitSeconds} s; it keeps running.`, {
        hint: `Follow it with \`kubectl -n ${ref.namespace} logs -f job/${job.metadata!.name}\`, or wait longer with --timeout.`,
      });
    }
    await sleep((opts.pollSeconds ?? 2) * 1000);
  }
}

/** The last lines of the newest pod of a Job; empty when none can be read. */
async function jobLog(kube: Kube, namespace: string, job: string): Promise<string> {
  const pods = await kube.list('Pod', { namespace, labelSelector: `job-name=${job}` }).catch(() => []);
  const newest = pods.sort((a, b) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')))[0];
  if (!newest) return '';
  return kube.logs(namespace, newest.metadata!.name!, BACKUP_CONTAINER, { tailLines: 40 }).catch(() => '');
}
