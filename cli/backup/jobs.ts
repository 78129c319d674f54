/**
 * The Jobs `mmoctl backup now` and `mmoctl restore` start, made from the release's backup CronJob
 * (charts/mmo/templates/backup.yaml) as `kubectl create job --from=cronjob/…` makes one: the same
 * pod (image, credentials, dump volume, security context, labels its NetworkPolicy selects), owned by
 * the CronJob so it goes with it. Pure functions over the CronJob; the service in run.ts creates them.
 */
import type { V1Container, V1CronJob, V1EnvVar, V1Job } from '@kubernetes/client-node';
import { COMPONENTS, LABELS } from '../../contract/labels.ts';
import { FailedError } from '../errors.ts';

/** The dump container's name in the chart's CronJob. */
export const BACKUP_CONTAINER = 'backup';
/** Annotation naming what a Job was started for: `backup` or `restore`. */
export const RUN_ANNOTATION = 'mmo.dev/run';
/** Annotation of a restore Job: the dump it loads. */
export const RESTORE_FROM_ANNOTATION = 'mmo.dev/restore-from';

/** Selects the backup CronJob of one release. */
export function backupSelector(release: string): string {
  return `${LABELS.instance}=${release},${LABELS.component}=${COMPONENTS.backup}`;
}

/** `20261204T170501Z`: the time as the chart's dump names carry it (UTC, to the second). */
export function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * A Job name from the CronJob's and the time: at most 63 characters (the job-name label the Job
 * controller sets must fit), distinct per second.
 */
export function jobName(cronJob: string, kind: 'now' | 'restore', at: Date): string {
  const suffix = `${kind}-${Math.floor(at.getTime() / 1000).toString(36)}`;
  return `${cronJob.slice(0, 62 - suffix.length).replace(/-+$/, '')}-${suffix}`;
}

function dumpContainer(cron: V1CronJob): V1Container {
  const c = cron.spec?.jobTemplate.spec?.template.spec?.containers.find((x) => x.name === BACKUP_CONTAINER);
  if (!c) throw new FailedError(`CronJob ${cron.metadata?.namespace}/${cron.metadata?.name} has no "${BACKUP_CONTAINER}" container: it was not made by this chart, or was edited.`, { hint: 'Upgrade the release to bring it back: `mmoctl upgrade` with the same values.' });
  return c;
}

/** The prefix of the release's dump names (the container's BACKUP_PREFIX). */
export function dumpPrefix(cron: V1CronJob): string {
  return dumpContainer(cron).env?.find((e) => e.name === 'BACKUP_PREFIX')?.value ?? 'mmo';
}

function fromCronJob(cron: V1CronJob, name: string, run: 'backup' | 'restore', env: V1EnvVar[], extra: { command?: string[]; annotations?: Record<string, string> }): V1Job {
  const spec = structuredClone(cron.spec!.jobTemplate.spec!);
  const pod = spec.template.spec!;
  pod.containers = pod.containers.map((c) => {
    if (c.name !== BACKUP_CONTAINER) return c;
    const keep = (c.env ?? []).filter((e) => !env.some((x) => x.name === e.name));
    return { ...c, ...(extra.command ? { command: extra.command } : {}), env: [...keep, ...env] };
  });
  // A failed restore is looked at, not retried: it may have changed nothing, or it is a new problem.
  if (run === 'restore') spec.backoffLimit = 0;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: cron.metadata!.namespace,
      labels: { ...(cron.spec!.jobTemplate.metadata?.labels ?? {}) },
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual', [RUN_ANNOTATION]: run, ...extra.annotations },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cron.metadata!.name!, uid: cron.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

/** A Job that dumps now, into `<dump>.dump` on the backup volume (retention applies as on schedule). */
export function backupJob(cron: V1CronJob, at: Date): { job: V1Job; dump: string } {
  const dump = `${dumpPrefix(cron)}-${stamp(at)}`;
  const job = fromCronJob(cron, jobName(cron.metadata!.name!, 'now', at), 'backup', [{ name: 'BACKUP_NAME', value: dump }], {});
  return { job, dump: `${dump}.dump` };
}

/** A Job that loads `from` (a dump file name on the volume, or `latest`) into the database. */
export function restoreJob(cron: V1CronJob, from: string, at: Date): V1Job {
  dumpContainer(cron);
  return fromCronJob(cron, jobName(cron.metadata!.name!, 'restore', at), 'restore', [{ name: 'RESTORE_FROM', value: from }], {
    command: ['sh', '/scripts/restore.sh'],
    annotations: { [RESTORE_FROM_ANNOTATION]: from },
  });
}
