// Backups and GitOps on a real API server: the chart's backup CronJob installed where Pod Security
// "restricted" is enforced, `mmoctl backup now` and `mmoctl restore` creating their Jobs from it (and
// the Job controller creating their pods, which admission lets through), and the Application
// `mmoctl gitops export` writes, accepted by Argo CD's own CRD. Velero's and Argo CD's CRDs come
// from their projects at pinned releases (test/support/pinned-crds.ts). No pod runs here: that the
// dump and the restore work is the server suite's (test/server/backup-restore.test.ts).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXIT } from '../../contract/exit-codes.ts';
import { CHART_DIR } from '../support/chart.ts';
import { json, mmoctl } from '../support/cli.ts';
import { ensurePinnedCrds, pinnedSource } from '../support/pinned-crds.ts';
import { apiErrorCode, clients, eventually, helm, uniqueName } from './kube.ts';
import { podSecurityNamespace } from './mmo-chart.ts';

const rig = inject('rig');
const admin = clients(rig.kubeconfig);
const namespaces: string[] = [];
let dir = '';
let ns = '';
let veleroNs = '';

const run = (args: string[], timeoutMs = 90_000) => mmoctl(args, { kubeconfig: rig.kubeconfig, helm: inject('helmPaths')[4], timeoutMs });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmoctl-backup-gitops-'));
  await ensurePinnedCrds(rig.kubeconfig, ['velero.io/v1/Schedule', 'argoproj.io/v1alpha1/Application']);
  ns = await podSecurityNamespace(admin, uniqueName('mmo-backup'), 'restricted');
  veleroNs = await podSecurityNamespace(admin, uniqueName('velero'), 'restricted');
  namespaces.push(ns, veleroNs);
  const res = await helm(inject('helmPaths')[4], rig.kubeconfig, [
    'install', 'game', CHART_DIR, '-n', ns,
    '--set', 'backup.pgDump.enabled=true', '--set', 'backup.pgDump.retention=3',
    '--set', 'backup.velero.enabled=true', '--set', `backup.velero.namespace=${veleroNs}`,
    '--set', 'udp.mode=disabled', '--wait', '--timeout', '120s',
  ], 150_000);
  if (res.code !== 0) throw new Error(`helm install with backups on failed:\n${res.stderr}`);
}, 240_000);

afterAll(async () => {
  if (ns) await helm(inject('helmPaths')[4], rig.kubeconfig, ['uninstall', 'game', '-n', ns, '--wait', '--timeout', '60s']);
  await Promise.all(namespaces.map((name) => admin.core.deleteNamespace({ name }).catch(() => {})));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('backups on the rig', () => {
  it(`installs the CronJob, its volume and a Velero Schedule (${pinnedSource('velero.io/v1/Schedule')}'s CRD) where "restricted" is enforced`, async () => {
    const cron = await admin.batch.readNamespacedCronJob({ namespace: ns, name: 'game-mmo-backup' });
    expect(cron.spec?.concurrencyPolicy).toBe('Forbid');
    const pvc = await admin.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'game-mmo-backup' });
    expect(pvc.metadata?.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const schedule = (await admin.objects.read({ apiVersion: 'velero.io/v1', kind: 'Schedule', metadata: { namespace: veleroNs, name: `${ns}-game-mmo` } })) as k8s.KubernetesObject & { spec: Record<string, any> };
    expect(schedule.spec.template.includedNamespaces).toEqual([ns]);
    // The API server judges the pod the CronJob would create by the namespace's level.
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'backup-admission', namespace: ns }, spec: cron.spec!.jobTemplate.spec!.template.spec! };
    expect(await apiErrorCode(admin.core.createNamespacedPod({ namespace: ns, body: pod, dryRun: 'All' }))).toBeUndefined();
    const root = { ...pod, spec: { ...pod.spec, securityContext: { ...pod.spec.securityContext, runAsNonRoot: false, runAsUser: 0 } } };
    expect((await apiErrorCode(admin.core.createNamespacedPod({ namespace: ns, body: root, dryRun: 'All' })))?.message).toMatch(/violates PodSecurity "restricted/);
  });

  it('backup now creates a Job from the CronJob, whose pod the Job controller creates and admission lets through', async () => {
    const res = await run(['backup', 'now', '-n', ns, '--release', 'game', '--no-wait', '-o', 'json']);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    const r = json(res) as { job: string; dump: string; state: string; cronJob: string };
    expect(r).toMatchObject({ cronJob: 'game-mmo-backup', state: 'created' });
    expect(r.dump).toMatch(/^game-mmo-\d{8}T\d{6}Z\.dump$/);
    const job = await admin.batch.readNamespacedJob({ namespace: ns, name: r.job });
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'game-mmo-backup', controller: true });
    const env = Object.fromEntries((job.spec!.template.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
    expect(env.BACKUP_NAME).toBe(r.dump.replace(/\.dump$/, ''));
    const pods = await eventually(`a pod of Job ${r.job}`, async () => {
      const list = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${r.job}` })).items;
      return list.length ? list : undefined;
    }, 60_000);
    expect(pods[0]!.spec?.containers[0]?.command).toEqual(['sh', '/scripts/backup.sh']);
  });

  it('restore creates a Job whose pod is set to run the restore script, and refuses to without --yes off a terminal', async () => {
    const refused = await run(['restore', '--from', 'latest', '-n', ns, '--release', 'game']);
    expect(refused.code).toBe(EXIT.invalidInput);
    expect(refused.stderr).toContain('without confirmation');
    const res = await run(['restore', '--from', 'latest', '--yes', '-n', ns, '--release', 'game', '--no-wait', '-o', 'json']);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    const job = await admin.batch.readNamespacedJob({ namespace: ns, name: (json(res) as { job: string }).job });
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec!.template.spec!.containers[0]!.command).toEqual(['sh', '/scripts/restore.sh']);
  });

  it('waits for the dump: exit 0 when its Job is reported Complete, 3 when reported Failed or still running at --timeout (the dump itself: server suite)', async () => {
    // The rig's nodes run no container; they report run-to-completion pods as exiting 0, or as the
    // pod's mmo.dev/rig-fault annotation says (docs/testing.md).
    const ok = await run(['backup', 'now', '-n', ns, '--release', 'game', '--timeout', '60s', '-o', 'json']);
    expect(ok.code, ok.stderr).toBe(EXIT.ok);
    expect(json(ok)).toMatchObject({ state: 'succeeded', cronJob: 'game-mmo-backup' });
    const fault = async (value: string) => {
      const cron = await admin.batch.readNamespacedCronJob({ namespace: ns, name: 'game-mmo-backup' });
      cron.spec!.jobTemplate.spec!.template.metadata = { ...cron.spec!.jobTemplate.spec!.template.metadata, annotations: { 'mmo.dev/rig-fault': value } };
      await admin.batch.replaceNamespacedCronJob({ namespace: ns, name: 'game-mmo-backup', body: cron });
    };
    await fault('fail');
    const failed = await run(['backup', 'now', '-n', ns, '--release', 'game', '--timeout', '90s', '-o', 'json']);
    expect(failed.code, failed.stderr).toBe(EXIT.failed);
    expect(json(failed)).toMatchObject({ kind: 'BackupResult', state: 'failed' });
    await fault('never-ready');
    const slow = await run(['backup', 'now', '-n', ns, '--release', 'game', '--timeout', '3s']);
    expect(slow.code).toBe(EXIT.failed);
    expect(slow.stderr).toMatch(/has not finished after 3 s; it keeps running/);
    const none = await run(['backup', 'now', '-n', ns, '--release', 'nothing']);
    expect(none.code).toBe(EXIT.failed);
    expect(none.stderr).toContain('--set backup.pgDump.enabled=true');
  });
});

describe(`GitOps: the exported Application on ${pinnedSource('argoproj.io/v1alpha1/Application')}'s CRD`, () => {
  it('creates a valid Argo CD Application, stored as written (no field pruned)', async () => {
    const argoNs = await podSecurityNamespace(admin, uniqueName('argocd'), 'restricted');
    namespaces.push(argoNs);
    const secrets = ['gameServer.auth.existingSecret=a', 'gameServer.admin.existingSecret=b', 'postgres.auth.existingSecret=c', 'redis.auth.existingSecret=d', 'rabbitmq.auth.existingSecret=e'].flatMap((s) => ['--set', s]);
    const res = await run(['gitops', 'export', '--profile', 'production', ...secrets, '--repo-url', 'https://git.example.com/studio/deploy.git', '--path', 'mmo', '--argocd-namespace', argoNs, '-n', 'game', '--create-namespace', '--auto-sync', '--out', dir, '-o', 'json']);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    const app = parse(await readFile((json(res) as { application: { file: string } }).application.file, 'utf8')) as k8s.KubernetesObject & { spec: unknown };
    await admin.objects.create(app);
    const stored = (await admin.objects.read({ apiVersion: app.apiVersion, kind: app.kind, metadata: { name: app.metadata!.name!, namespace: argoNs } })) as typeof app;
    expect(stored.spec).toEqual(app.spec);
    // The CRD's schema is enforced: a wrong type is refused, an unknown field pruned.
    const wrong = { ...app, metadata: { name: 'wrong', namespace: argoNs }, spec: { ...(app.spec as object), source: { repoURL: 'https://x', path: 'mmo', helm: { valueFiles: 'values.yaml' } } } };
    expect((await apiErrorCode(admin.objects.create(wrong)))?.code).toBe(422);
    const extra = { ...app, metadata: { name: 'extra', namespace: argoNs }, spec: { ...(app.spec as object), sauce: { helm: {} } } };
    await admin.objects.create(extra);
    const pruned = (await admin.objects.read({ apiVersion: app.apiVersion, kind: app.kind, metadata: { name: 'extra', namespace: argoNs } })) as typeof app;
    expect(pruned.spec).toEqual(app.spec);
  });
});
