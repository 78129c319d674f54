// `mmoctl backup now` and `mmoctl restore`: the Jobs they make from the release's backup CronJob, and
// how they wait, over a fake cluster. The rig's suite creates them on a real API server; the server
// suite runs the scripts they start against a real PostgreSQL.
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../contract/exit-codes.ts';
import { backupJob, jobName, restoreJob } from '../../../cli/backup/jobs.ts';
import { backupNow, restoreNow } from '../../../cli/backup/run.ts';
import { CliError } from '../../../cli/errors.ts';
import { renderRun } from '../../../cli/backup/render.ts';
import { document } from '../../../cli/ui/output.ts';
import { PLAIN } from '../../../cli/ui/style.ts';
import { assertDocument } from '../../support/cli.ts';
import { FakeKube } from './fakes.ts';
import { golden } from './golden.ts';

const ref = { release: 'game', namespace: 'mmo' };
const AT = new Date('2026-12-04T17:05:01.250Z');
const labels = { 'app.kubernetes.io/name': 'mmo', 'app.kubernetes.io/instance': 'game', 'app.kubernetes.io/component': 'backup' };

/** The parts of the chart's backup CronJob the Jobs are made from (charts/mmo/templates/backup.yaml). */
function cronJob(name = 'game-mmo-backup'): V1CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'mmo', uid: 'c0ffee', labels },
    spec: {
      schedule: '0 4 * * *',
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 1,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'backup', image: 'docker.io/library/postgres:17.5-bookworm', command: ['sh', '/scripts/backup.sh'], env: [{ name: 'BACKUP_PREFIX', value: 'game-mmo' }, { name: 'BACKUP_RETENTION', value: '7' }] }],
            },
          },
        },
      },
    },
  };
}

const env = (job: V1Job) => Object.fromEntries((job.spec!.template.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value]));

describe('the Jobs made from the backup CronJob', () => {
  it('dumps now with the scheduled pod as it is, into a file named after the time, owned by the CronJob', () => {
    const { job, dump } = backupJob(cronJob(), AT);
    expect(dump).toBe('game-mmo-20261204T170501Z.dump');
    expect(job.metadata).toMatchObject({ namespace: 'mmo', labels, annotations: { 'cronjob.kubernetes.io/instantiate': 'manual', 'mmo.dev/run': 'backup' } });
    expect(job.metadata!.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'game-mmo-backup', uid: 'c0ffee', controller: true, blockOwnerDeletion: true }]);
    expect(job.spec!.template.spec!.containers[0]!.command).toEqual(['sh', '/scripts/backup.sh']);
    expect(env(job)).toEqual({ BACKUP_PREFIX: 'game-mmo', BACKUP_RETENTION: '7', BACKUP_NAME: 'game-mmo-20261204T170501Z' });
    expect(job.spec!.backoffLimit).toBe(1);
  });

  it('restores with the restore script in the same pod, never retried', () => {
    const job = restoreJob(cronJob(), 'latest', AT);
    expect(job.spec!.template.spec!.containers[0]!.command).toEqual(['sh', '/scripts/restore.sh']);
    expect(env(job)).toMatchObject({ RESTORE_FROM: 'latest' });
    expect(job.spec!.backoffLimit).toBe(0);
    expect(job.metadata!.annotations).toMatchObject({ 'mmo.dev/run': 'restore', 'mmo.dev/restore-from': 'latest' });
    // The CronJob itself is left as it was.
    expect(cronJob().spec!.jobTemplate.spec!.template.spec!.containers[0]!.command).toEqual(['sh', '/scripts/backup.sh']);
  });

  it('names Jobs within the 63 characters of the job-name label, distinct per second', () => {
    const long = `${'x'.repeat(42)}-backup`;
    for (const kind of ['now', 'restore'] as const) {
      const a = jobName(long, kind, AT);
      expect(a.length).toBeLessThanOrEqual(63);
      expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(jobName(long, kind, new Date(AT.getTime() + 1000))).not.toBe(a);
    }
    expect(jobName('game-mmo-backup', 'now', AT)).toBe(`game-mmo-backup-now-${Math.floor(AT.getTime() / 1000).toString(36)}`);
  });
});

describe('backup now and restore', () => {
  it('says how to turn dumps on when the release has no backup CronJob (exit 3)', async () => {
    const err = await backupNow(new FakeKube(), ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.failed);
    expect((err as CliError).message).toBe('release game in namespace mmo has no backup CronJob: backup.pgDump is off (or the release does not exist).');
    expect((err as CliError).hint).toContain('--set backup.pgDump.enabled=true');
  });

  it('creates the Job and returns at once without waiting', async () => {
    const kube = new FakeKube({ CronJob: [cronJob(), cronJob('other-mmo-backup')].map((c, i) => (i ? { ...c, metadata: { ...c.metadata, labels: { ...labels, 'app.kubernetes.io/instance': 'other' } } } : c)) });
    const r = await backupNow(kube, ref, { now: () => AT });
    expect(r).toEqual({ release: 'game', namespace: 'mmo', cronJob: 'game-mmo-backup', job: jobName('game-mmo-backup', 'now', AT), dump: 'game-mmo-20261204T170501Z.dump', state: 'created' });
    expect((kube.objects.get('Job') ?? []).map((j) => j.metadata?.name)).toEqual([r.job]);
    assertDocument(document('BackupResult', r));
  });

  it('waits for the Job to end and reports its log: succeeded, or failed', async () => {
    for (const outcome of ['Complete', 'Failed'] as const) {
      const kube = new FakeKube({ CronJob: [cronJob()] });
      let clock = AT.getTime();
      // The Job controller, as seen through polls: the Job ends after the second look.
      let looks = 0;
      const sleep = async (ms: number) => {
        clock += ms;
        if (++looks < 2) return;
        const job = kube.objects.get('Job')![0] as V1Job;
        job.status = { conditions: [{ type: outcome, status: 'True' }] };
        kube.objects.set('Pod', [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${job.metadata!.name}-abcde`, namespace: 'mmo', labels: { 'job-name': job.metadata!.name! } } }]);
        kube.logText.set(`${job.metadata!.name}-abcde/backup`, outcome === 'Complete' ? 'backup: wrote /backups/x.dump (1234 bytes)\n' : 'restore: no dump x\n');
      };
      const r = await restoreNow(kube, ref, 'game-mmo-20261204T040000Z.dump', { waitSeconds: 60, now: () => new Date(clock), sleep });
      expect(r.state).toBe(outcome === 'Complete' ? 'succeeded' : 'failed');
      expect(r.seconds).toBe(4);
      expect(r.log).toContain(outcome === 'Complete' ? 'backup: wrote' : 'restore: no dump');
      assertDocument(document('RestoreResult', r));
    }
  });

  it('stops waiting at the timeout, saying the Job keeps running and how to follow it', async () => {
    const kube = new FakeKube({ CronJob: [cronJob()] });
    let clock = AT.getTime();
    const err = await backupNow(kube, ref, { waitSeconds: 10, now: () => new Date(clock), sleep: async (ms) => void (clock += ms) }).catch((e: unknown) => e);
    expect((err as CliError).exitCode).toBe(EXIT.failed);
    expect((err as CliError).message).toMatch(/has not finished after 10 s; it keeps running/);
    expect((err as CliError).hint).toMatch(/kubectl -n mmo logs -f job\/game-mmo-backup-now-/);
  });

  it('refuses a dump name that could leave the backup volume (exit 2), before touching the cluster', async () => {
    const kube = new FakeKube({ CronJob: [cronJob()] });
    for (const from of ['../x.dump', '/etc/passwd', '']) {
      const err = await restoreNow(kube, ref, from).catch((e: unknown) => e);
      expect((err as CliError).exitCode, from).toBe(EXIT.invalidInput);
    }
    expect(kube.objects.get('Job') ?? []).toEqual([]);
  });
});

describe('what people read', () => {
  const base = { release: 'game', namespace: 'mmo', cronJob: 'game-mmo-backup', job: 'game-mmo-backup-now-t6yk3x', dump: 'game-mmo-20261204T170501Z.dump' };
  it('says what was dumped or restored, prints the log, and the command that loads a dump back', () => {
    const text = [
      renderRun('backup', { ...base, state: 'succeeded', seconds: 4, log: 'backup: wrote /backups/game-mmo-20261204T170501Z.dump (48213 bytes)\nbackup: removed /backups/game-mmo-20261127T040000Z.dump (keeping the newest 7)\n' }, PLAIN, '-n mmo --release game'),
      renderRun('backup', { ...base, state: 'created' }, PLAIN, ''),
      renderRun('restore', { ...base, job: 'game-mmo-backup-restore-t6yk3x', dump: 'latest', state: 'failed', seconds: 2, log: 'restore: no dump of game-mmo in /backups. The dumps there, newest first:\n  (none)\n' }, PLAIN, ''),
    ].join('\n\n---\n\n');
    golden('backup-restore', `${text}\n`);
  });
});
