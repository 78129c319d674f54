// What a real API server says about the chart: every case of the chart suite's toggle matrix passes a
// server-side dry run (validation, defaulting, admission), every pod it would create is admitted
// under Pod Security "restricted" except the game servers of the two host UDP modes — exactly the
// ones the chart suite's offline policy check flags — and installing those modes where "restricted"
// is enforced is refused before anything is created, saying why and how to fix it.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CASES, TEST_PRIORITY_CLASS, type ValuesCase } from '../chart/cases.ts';
import { CHART_DIR, parseManifests, podSpecs, templateRaw } from '../support/chart.ts';
import type { Manifest } from '../support/k8s-strict.ts';
import { ensurePinnedCrds } from '../support/pinned-crds.ts';
import { OPERATIONS_API_VERSIONS } from '../../contract/kubernetes.ts';
import { ensureCrds } from '../support/crds.ts';
import { restrictedViolations } from '../support/policy.ts';
import { HELM_MAJORS, apiErrorCode, clients, eventually, helm, uniqueName } from './kube.ts';
import { ensureMonitoringCrds, ensurePriorityClass, freeNodePort, podSecurityNamespace } from './mmo-chart.ts';

const rig = inject('rig');
const admin = clients(rig.kubeconfig);
const namespaces: string[] = [];
const releases: { major: 3 | 4; ns: string; name: string }[] = [];

async function namespace(prefix: string, level: 'restricted' | 'privileged'): Promise<string> {
  const ns = await podSecurityNamespace(admin, uniqueName(prefix), level);
  namespaces.push(ns);
  return ns;
}

afterAll(async () => {
  for (const r of releases) await helm(inject('helmPaths')[r.major], rig.kubeconfig, ['uninstall', r.name, '-n', r.ns, '--wait', '--timeout', '60s']);
  await Promise.all(namespaces.map((name) => admin.core.deleteNamespace({ name }).catch(() => {})));
});

/** The Pod a workload's controller would create from its template (StatefulSet claims included). */
function podOf(owner: Manifest, labels: Record<string, string>, spec: Record<string, unknown>, namespace: string): k8s.V1Pod {
  const claims = ((owner.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).map((t) => ({
    name: t.metadata.name,
    persistentVolumeClaim: { claimName: `${t.metadata.name}-${owner.metadata.name}-0` },
  }));
  const volumes = [...((spec.volumes as object[] | undefined) ?? []), ...claims];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${owner.metadata.name}-${owner.kind.toLowerCase()}`.slice(0, 63), namespace, labels },
    spec: { ...spec, ...(volumes.length ? { volumes } : {}) } as k8s.V1PodSpec,
  };
}

describe('server-side dry run of every case of the chart matrix', () => {
  // Objects are dry-run where nothing exists; pods where their ServiceAccounts do (admission needs them).
  let ns = '';
  let podNs = '';
  const rendered = new Map<string, Manifest[]>();

  beforeAll(async () => {
    ns = await namespace('mmo-dryrun', 'restricted');
    podNs = await namespace('mmo-admit', 'restricted');
    await ensureMonitoringCrds(admin);
    // The backup cases' Velero Schedule: Velero's own CRD, in the namespace Velero runs in.
    await ensurePinnedCrds(rig.kubeconfig, ['velero.io/v1/Schedule']);
    await admin.core.createNamespace({ body: { metadata: { name: 'velero' } } }).catch((err: unknown) => {
      if (!(err instanceof k8s.ApiException && err.code === 409)) throw err;
    });
    // The operations cases create KEDA's, VPA's and Istio's kinds, registered from their packages' schemas.
    await ensureCrds(admin.kc, OPERATIONS_API_VERSIONS);
    // The placement case schedules every workload by a PriorityClass, which must exist for admission.
    await ensurePriorityClass(admin, TEST_PRIORITY_CLASS);
    // One helm major renders: the chart suite proves both render the same objects.
    const helm4 = inject('helmPaths')[4];
    for (let i = 0; i < CASES.length; i += 4) {
      await Promise.all(
        CASES.slice(i, i + 4).map(async (c) => {
          // A dry run checks node port allocation too: fixed ports of the cases become free ones, so
          // a port another file's Service happens to hold now cannot fail a case.
          const ports = ['--set', `udp.nodePort=${await freeNodePort(admin)}`];
          if ((c.values ?? []).some((v) => (v as { service?: { nodePort?: number } }).service?.nodePort)) ports.push('--set', `service.nodePort=${await freeNodePort(admin)}`);
          const res = await templateRaw(helm4, { ...c, namespace: ns, args: ['--kube-version', rig.kubernetesVersion, ...ports] });
          if (res.code !== 0) throw new Error(`${c.name}: helm template failed:\n${res.stderr}`);
          rendered.set(c.name, parseManifests(res.stdout));
        }),
      );
    }
    // Pods are admitted only with their ServiceAccount present: create those for real (no pod runs).
    await eventually('the default ServiceAccount', () => admin.core.readNamespacedServiceAccount({ namespace: podNs, name: 'default' }));
    const accounts = new Set([...rendered.values()].flat().filter((m) => m.kind === 'ServiceAccount').map((m) => m.metadata.name));
    for (const name of accounts) await admin.core.createNamespacedServiceAccount({ namespace: podNs, body: { metadata: { name } } });
  }, 120_000);

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c: ValuesCase) => {
    const manifests = rendered.get(c.name)!;
    expect(manifests.length).toBeGreaterThan(10);

    const refusedObjects = (
      await Promise.all(
        manifests.map(async (m) => {
          const err = await apiErrorCode(admin.objects.create(m as k8s.KubernetesObject, undefined, 'All'));
          return err ? [`${m.kind}/${m.metadata.name}: ${err.code} ${err.message}`] : [];
        }),
      )
    ).flat();
    expect(refusedObjects).toEqual([]);

    const pods = podSpecs(manifests);
    expect(pods.length).toBeGreaterThanOrEqual(3);
    const verdicts = await Promise.all(
      pods.map(async ({ owner, labels, spec }) => ({
        name: owner.metadata.name,
        offline: restrictedViolations(owner.metadata.name, spec),
        refusal: await apiErrorCode(admin.core.createNamespacedPod({ namespace: podNs, body: podOf(owner, labels, spec, podNs), dryRun: 'All' })),
      })),
    );
    // Admission and the chart suite's offline policy check agree on every pod.
    expect(verdicts.filter((v) => Boolean(v.refusal) !== v.offline.length > 0).map((v) => `${v.name}: admission ${v.refusal?.message ?? 'admitted'}; offline ${v.offline.join(', ') || 'clean'}`)).toEqual([]);
    const refused = verdicts.filter((v) => v.refusal);
    const mode = (c.values ?? []).map((v) => (v as { udp?: { mode?: string } }).udp?.mode).find(Boolean);
    if (mode === 'hostPort' || mode === 'hostNetwork') {
      const gameServers = pods.filter((p) => p.labels['app.kubernetes.io/component'] === 'game-server').map((p) => p.owner.metadata.name).sort();
      expect(gameServers.length).toBeGreaterThan(0);
      expect(refused.map((v) => v.name).sort()).toEqual(gameServers);
      for (const v of refused) {
        expect(v.refusal!.code).toBe(403);
        expect(v.refusal!.message).toMatch(mode === 'hostPort' ? /violates PodSecurity "restricted:latest": hostPort \(container "server" uses hostPort 20000\)/ : /violates PodSecurity "restricted:latest": host namespaces \(hostNetwork=true\)/);
      }
    } else {
      expect(refused.map((v) => `${v.name}: ${v.refusal!.message}`)).toEqual([]);
    }
  });
});

describe.each(HELM_MAJORS)('helm %i and the UDP modes that need host access', (major) => {
  const run = (args: string[]) => helm(inject('helmPaths')[major], rig.kubeconfig, args, 90_000);

  it.each(['hostPort', 'hostNetwork'])('refuses udp.mode=%s where "restricted" is enforced, at once and creating nothing', async (mode) => {
    const ns = await namespace(`mmo-${mode.toLowerCase()}-h${major}`, 'restricted');
    const res = await run(['install', 'game', CHART_DIR, '-n', ns, '--set', `udp.mode=${mode}`, '--wait', '--timeout', '60s']);
    expect(res.code).not.toBe(0);
    expect(res.ms).toBeLessThan(20_000);
    expect(res.stderr).toContain(`udp.mode is ${mode} but namespace ${ns} enforces Pod Security "restricted"`);
    expect(res.stderr).toContain(`kubectl label namespace ${ns} pod-security.kubernetes.io/enforce=privileged --overwrite`);
    expect(res.stderr).toContain('--set udp.mode=nodePort');
    const [deployments, secrets] = await Promise.all([admin.apps.listNamespacedDeployment({ namespace: ns }), admin.core.listNamespacedSecret({ namespace: ns })]);
    expect(deployments.items).toEqual([]);
    expect(secrets.items).toEqual([]);
  });

  it('installs udp.mode=hostNetwork with --wait where the namespace allows "privileged": game server pods admitted on the host network, one per node, reported Ready', async () => {
    const ns = await namespace(`mmo-hostnet-h${major}`, 'privileged');
    const release = { major, ns, name: 'game' };
    releases.push(release);
    try {
      const res = await run(['install', 'game', CHART_DIR, '-n', ns, '--set', 'udp.mode=hostNetwork', '--set-json', 'networkPolicy.nodeCIDRs=["10.0.0.0/24"]', '--set', 'gameServer.replicas=2', '--wait', '--timeout', '60s']);
      expect(res.code, res.stderr).toBe(0);
      const pods = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=game-server' })).items;
      expect(pods).toHaveLength(2);
      expect(pods.every((p) => p.spec?.hostNetwork === true && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
      expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(2);
    } finally {
      // Host ports are per node across namespaces: free them for the next install.
      await run(['uninstall', 'game', '-n', ns, '--wait', '--timeout', '60s']);
      releases.splice(releases.indexOf(release), 1);
    }
  });
});
