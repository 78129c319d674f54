// Upgrades that cannot break: what a data store the cluster runs cannot take after install (a new
// volume size, StorageClass or claim, a new database name or user) is refused before anything
// changes, with the value the installed release holds as the fix — on `helm upgrade` and on the
// server-side dry run the CLI runs first. Offline renders cannot see the live objects (chart suite).
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHART_DIR, PRESETS_DIR } from '../support/chart.ts';
import { parseProblems } from '../support/problems.ts';
import { HELM_MAJORS, clients, helm, uniqueName } from './kube.ts';
import { podSecurityNamespace } from './mmo-chart.ts';

const rig = inject('rig');
const admin = clients(rig.kubeconfig);
const namespaces: string[] = [];

afterAll(async () => {
  await Promise.all(namespaces.map((name) => admin.core.deleteNamespace({ name }).catch(() => {})));
});

const dataVolume = async (ns: string, statefulSet: string) => {
  const s = await admin.apps.readNamespacedStatefulSet({ namespace: ns, name: statefulSet });
  return (s.spec?.volumeClaimTemplates ?? []).find((t) => t.metadata?.name === 'data')?.spec?.resources?.requests?.storage;
};

describe.each(HELM_MAJORS)('helm %i upgrading a release whose data stores hold data', (major) => {
  let ns = '';
  const run = (args: string[]) => helm(inject('helmPaths')[major], rig.kubeconfig, args, 90_000);
  const upgrade = (...set: string[]) => run(['upgrade', 'game', CHART_DIR, '-n', ns, '-f', `${PRESETS_DIR}/dev.yaml`, ...set.flatMap((x) => ['--set', x])]);

  beforeAll(async () => {
    ns = await podSecurityNamespace(admin, uniqueName(`mmo-upgrade-h${major}`), 'restricted');
    namespaces.push(ns);
    const res = await run(['install', 'game', CHART_DIR, '-n', ns, '-f', `${PRESETS_DIR}/dev.yaml`]);
    expect(res.code, res.stderr).toBe(0);
  }, 120_000);

  it('refuses a new volume size, saying which size the volume has, and changes nothing', async () => {
    const res = await upgrade('postgres.persistence.size=20Gi');
    expect(res.code).not.toBe(0);
    const problems = parseProblems(res.stderr);
    expect(problems.map((p) => p.key)).toEqual(['postgres.persistence.size']);
    expect(problems[0]!.text).toContain('docs/upgrades.md');
    expect(problems[0]!.fixes[0]!.helmArgs).toEqual(['--set', 'postgres.persistence.size=1Gi']);
    expect(await dataVolume(ns, 'game-mmo-postgres')).toBe('1Gi');
    // The fix it names is an upgrade that goes through.
    const fixed = await upgrade('postgres.persistence.size=20Gi', 'postgres.persistence.size=1Gi');
    expect(fixed.code, fixed.stderr).toBe(0);
  });

  it('refuses a new database, user, StorageClass or claim in one failure, each with the installed value', async () => {
    const set = ['postgres.database=game', 'postgres.username=game', 'rabbitmq.username=game', 'redis.persistence.storageClass=fast-ssd', 'rabbitmq.persistence.existingClaim=mq-data'];
    // The server-side dry run (what the CLI runs before it upgrades) refuses as the upgrade does.
    for (const dryRun of [['--dry-run=server'], []]) {
      const res = await run(['upgrade', 'game', CHART_DIR, '-n', ns, '-f', `${PRESETS_DIR}/dev.yaml`, ...set.flatMap((x) => ['--set', x]), ...dryRun]);
      expect(res.code, dryRun.join(' ') || 'upgrade').not.toBe(0);
      expect(Object.fromEntries(parseProblems(res.stderr).map((p) => [p.key, p.fixes[0]!.helmArgs[1]]))).toEqual({
        'postgres.database': 'postgres.database=mmo',
        'postgres.username': 'postgres.username=mmo',
        'rabbitmq.username': 'rabbitmq.username=mmo',
        'redis.persistence.storageClass': 'redis.persistence.storageClass=',
        'rabbitmq.persistence.existingClaim': 'rabbitmq.persistence.existingClaim=',
      });
    }
    const pg = await admin.apps.readNamespacedStatefulSet({ namespace: ns, name: 'game-mmo-postgres' });
    expect(pg.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'POSTGRES_DB')?.value).toBe('mmo');
  });

  it('still upgrades what a data store may change (resources, pod labels)', async () => {
    const res = await upgrade('postgres.resources.limits.memory=768Mi', 'postgres.podLabels.team=game');
    expect(res.code, res.stderr).toBe(0);
    const pg = await admin.apps.readNamespacedStatefulSet({ namespace: ns, name: 'game-mmo-postgres' });
    expect(pg.spec?.template.metadata?.labels?.team).toBe('game');
    expect((pg.spec?.template.spec?.containers[0] as k8s.V1Container).resources?.limits?.memory).toBe('768Mi');
  });
});
