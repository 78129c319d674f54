// backup.*: the pg_dump CronJob, its volume, scripts and NetworkPolicy, and the Velero Schedule, as
// rendered by helm 3 and 4. The toggle matrix (cases.ts) runs the same cases through the generic
// checks (valid objects, Pod Security "restricted", NetworkPolicy flows); here is what backups
// promise on top.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { COMPONENTS, LABELS } from '../../contract/labels.ts';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { CHART_DIR, find, podSpecs } from '../support/chart.ts';
import type { Manifest } from '../support/k8s-strict.ts';
import { pinnedCrdProblems, pinnedSource } from '../support/pinned-crds.ts';
import { restrictedViolations } from '../support/policy.ts';
import { CASES, renderCases } from './cases.ts';

const majors: HelmMajor[] = [3, 4];
const ON = 'backups: pg_dump to a volume and a Velero Schedule';
const EXTERNAL = 'backups of an external PostgreSQL to an existing claim';
const cases = CASES.filter((c) => [ON, EXTERNAL, 'chart defaults', 'preset production'].includes(c.name));
let rendered = new Map<string, Manifest[]>();

beforeAll(async () => {
  rendered = await renderCases(inject('helmPaths'), majors, cases);
}, 120_000);

type Body = Record<string, any>;
const out = (major: HelmMajor, name: string) => rendered.get(`${major}|${name}`)!;
const cronJob = (m: readonly Manifest[]) => find(m, 'CronJob', 'game-mmo-backup') as unknown as Body;
const podSpec = (m: readonly Manifest[]) => cronJob(m).spec.jobTemplate.spec.template.spec as Body;
const container = (m: readonly Manifest[]) => podSpec(m).containers[0] as Body;
const env = (m: readonly Manifest[]) => Object.fromEntries((container(m).env as Body[]).map((e) => [e.name, e.value ?? e.valueFrom]));

describe.each(majors)('helm %i', (major) => {
  it('renders no backup object unless a backup is asked for', () => {
    for (const name of ['chart defaults', 'preset production']) {
      const m = out(major, name);
      expect(m.filter((x) => x.metadata.labels?.[LABELS.component] === COMPONENTS.backup || x.kind === 'CronJob' || x.kind === 'Schedule').map((x) => `${x.kind}/${x.metadata.name}`)).toEqual([]);
    }
  });

  it('dumps on the schedule, one at a time, with the bundled PostgreSQL\'s own image, into a volume `helm uninstall` keeps', () => {
    const m = out(major, ON);
    const cj = cronJob(m);
    expect(cj.spec).toMatchObject({ schedule: '30 3 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
    const pg = find(m, 'StatefulSet', 'game-mmo-postgres') as unknown as Body;
    expect(container(m).image).toBe(pg.spec.template.spec.containers.find((c: Body) => c.name === 'postgres').image);
    expect(container(m).command).toEqual(['sh', '/scripts/backup.sh']);
    const pvc = find(m, 'PersistentVolumeClaim', 'game-mmo-backup') as unknown as Body;
    expect(pvc.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(pvc.spec).toMatchObject({ storageClassName: 'standard', resources: { requests: { storage: '5Gi' } } });
    expect(podSpec(m).volumes).toContainEqual({ name: 'backups', persistentVolumeClaim: { claimName: 'game-mmo-backup' } });
    expect(env(m)).toMatchObject({ BACKUP_DIR: '/backups', BACKUP_PREFIX: 'game-mmo', BACKUP_RETENTION: '14', DATABASE_URL: { secretKeyRef: { name: 'game-mmo-server', key: 'DATABASE_URL' } } });
    expect(cj.spec.jobTemplate.spec.template.metadata.labels).toMatchObject({ team: 'game', [LABELS.component]: COMPONENTS.backup });
  });

  it('runs exactly the scripts of charts/mmo/files (the ones the backup and restore suite runs against PostgreSQL)', () => {
    const cm = find(out(major, ON), 'ConfigMap', 'game-mmo-backup') as unknown as Body;
    for (const file of ['backup.sh', 'restore.sh']) expect(cm.data[file], file).toBe(readFileSync(join(CHART_DIR, 'files', file), 'utf8'));
  });

  it('dumps an external PostgreSQL through its URL Secret onto an existing claim', () => {
    const m = out(major, EXTERNAL);
    expect(m.filter((x) => x.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(podSpec(m).volumes).toContainEqual({ name: 'backups', persistentVolumeClaim: { claimName: 'pg-dumps' } });
    expect(env(m).DATABASE_URL).toEqual({ secretKeyRef: { name: 'mmo-db', key: 'url' } });
    expect(cronJob(m).spec.timeZone).toBeUndefined();
  });

  it('runs the dump under Pod Security "restricted", with no service account token', () => {
    for (const name of [ON, EXTERNAL]) {
      const pods = podSpecs(out(major, name)).filter((p) => p.labels[LABELS.component] === COMPONENTS.backup);
      expect(pods.map((p) => p.owner.kind)).toEqual(['CronJob']);
      expect(restrictedViolations('backup', pods[0]!.spec)).toEqual([]);
      expect(pods[0]!.spec.automountServiceAccountToken).toBe(false);
    }
  });

  it(`creates a Velero Schedule for the release's namespace in Velero's, valid against Velero's own CRD`, () => {
    const schedule = find(out(major, ON), 'Schedule', 'mmo-game-mmo') as unknown as Body;
    expect(schedule.metadata.namespace).toBe('velero');
    expect(schedule.spec).toEqual({
      schedule: '0 5 * * *',
      useOwnerReferencesInBackup: false,
      template: { includedNamespaces: ['mmo'], ttl: '720h0m0s', snapshotVolumes: false, defaultVolumesToFsBackup: true, storageLocation: 'offsite' },
    });
    expect(pinnedCrdProblems(schedule as Manifest)).toEqual([]);
  });
});

describe(`the Velero Schedule check (${pinnedSource('velero.io/v1/Schedule')})`, () => {
  const schedule = (spec: Body): Manifest => ({ apiVersion: 'velero.io/v1', kind: 'Schedule', metadata: { name: 's', namespace: 'velero' }, spec } as Manifest);
  it('refuses a misspelt field and a wrong type, as the API server would', () => {
    expect(pinnedCrdProblems(schedule({ schedule: '@daily', template: { includedNamespace: ['mmo'] } }))).toEqual([expect.stringContaining('(includedNamespace)')]);
    expect(pinnedCrdProblems(schedule({ schedule: '@daily', template: { snapshotVolumes: 'yes' } }))).toEqual([expect.stringContaining('Schedule/s.spec.template.snapshotVolumes: must be boolean')]);
    expect(pinnedCrdProblems(schedule({ template: {} }))).toEqual([expect.stringContaining("must have required property 'schedule'")]);
  });
});
