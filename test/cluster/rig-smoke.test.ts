// The rig behaves like a cluster where it matters to mmoctl: real helm installs, waits, tests and
// upgrades; the API server validates, admits and authorizes for real; kwok's Stages stand in for
// kubelets, a load balancer controller and a volume provisioner, including the injected faults.
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NODE_ALLOCATABLE, RIG_NODES } from '../../scripts/rig/cluster.ts';
import { HELM_PINS } from '../../scripts/setup/helm.ts';
import { HELM_MAJORS, apiErrorCode, clients, eventually, helm, uniqueName } from './kube.ts';

const CHART = join(import.meta.dirname, 'fixtures', 'smoke-chart');
const rig = inject('rig');
const admin = clients(rig.kubeconfig);
const namespaces: string[] = [];

async function newNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = uniqueName(prefix);
  await admin.core.createNamespace({ body: { metadata: { name, labels } } });
  namespaces.push(name);
  return name;
}

afterAll(async () => {
  // Namespace deletion is done by the real namespace controller; we do not wait for it.
  await Promise.all(namespaces.map((name) => admin.core.deleteNamespace({ name }).catch(() => {})));
});

describe('the rig', () => {
  it('serves the Kubernetes version it was built as', async () => {
    const version = await admin.kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(rig.kubernetesVersion);
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
  });

  it('has three nodes reported Ready in distinct zones with allocatable resources and external addresses', async () => {
    const nodes = (await admin.core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(RIG_NODES.map((n) => n.name));
    const zones = new Set(nodes.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']));
    expect(zones.size).toBe(3);
    for (const n of nodes) {
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(n.status?.allocatable).toMatchObject({ cpu: NODE_ALLOCATABLE.cpu, memory: NODE_ALLOCATABLE.memory });
      const types = (n.status?.addresses ?? []).map((a) => a.type);
      expect(types).toEqual(expect.arrayContaining(['InternalIP', 'ExternalIP']));
    }
  });

  it('rejects an invalid manifest in a server-side dry run and persists nothing for a valid one', async () => {
    const ns = await newNamespace('dryrun');
    const deployment = (replicas: number): k8s.V1Deployment => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
      },
    });
    const invalid = await apiErrorCode(admin.objects.create(deployment(-1), undefined, 'All'));
    expect(invalid?.code).toBe(422);
    expect(invalid?.message).toContain('spec.replicas');
    await admin.objects.create(deployment(1), undefined, 'All');
    expect(await apiErrorCode(admin.apps.readNamespacedDeployment({ name: 'web', namespace: ns }))).toMatchObject({ code: 404 });
  });

  it('refuses a privileged pod in a namespace that enforces the restricted Pod Security level', async () => {
    const ns = await newNamespace('psa', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const pod = (privileged: boolean): k8s.V1Pod => ({
      metadata: { name: privileged ? 'privileged' : 'compliant', namespace: ns },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'registry.invalid/c:1',
            securityContext: privileged
              ? { privileged: true }
              : { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
          },
        ],
      },
    });
    const refused = await apiErrorCode(admin.core.createNamespacedPod({ namespace: ns, body: pod(true) }));
    expect(refused?.code).toBe(403);
    expect(refused?.message).toContain('violates PodSecurity "restricted');
    await admin.core.createNamespacedPod({ namespace: ns, body: pod(false) });
  });

  it('denies the restricted kubeconfig anything cluster-scoped but lets it work in its namespace', async () => {
    const tenant = clients(rig.restrictedKubeconfig);
    const denied = await apiErrorCode(tenant.core.createNamespace({ body: { metadata: { name: uniqueName('not-allowed') } } }));
    expect(denied?.code).toBe(403);
    expect(denied?.message).toContain(`system:serviceaccount:${rig.restrictedNamespace}:`);
    expect((await apiErrorCode(tenant.core.listNamespacedPod({ namespace: 'default' })))?.code).toBe(403);
    const name = uniqueName('cm');
    await tenant.core.createNamespacedConfigMap({ namespace: rig.restrictedNamespace, body: { metadata: { name }, data: { a: 'b' } } });
    await tenant.core.deleteNamespacedConfigMap({ namespace: rig.restrictedNamespace, name });
  });

  it('reports a "crashloop" pod restarting and never ready', async () => {
    const ns = await newNamespace('crash');
    await admin.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'crasher', annotations: { 'mmo.dev/rig-fault': 'crashloop' } },
        spec: { containers: [{ name: 'c', image: 'registry.invalid/c:1' }] },
      },
    });
    const pod = await eventually('two restarts', async () => {
      const p = await admin.core.readNamespacedPod({ namespace: ns, name: 'crasher' });
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? p : undefined;
    });
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('reads the fault from a pod label too: a "never-ready" pod is reported running and never ready', async () => {
    const ns = await newNamespace('label');
    const create = (name: string, labels: Record<string, string>) =>
      admin.core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'registry.invalid/c:1' }] } } });
    await create('healthy', {});
    await create('stuck', { 'mmo.dev/rig-fault': 'never-ready' });
    const ready = (p: k8s.V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    await eventually('the healthy pod to be ready', async () =>
      ready(await admin.core.readNamespacedPod({ namespace: ns, name: 'healthy' })) === 'True' ? true : undefined,
    );
    const stuck = await eventually('the stuck pod to run', async () => {
      const p = await admin.core.readNamespacedPod({ namespace: ns, name: 'stuck' });
      return p.status?.phase === 'Running' ? p : undefined;
    });
    expect(ready(stuck)).toBe('False');
    expect(stuck.status?.containerStatuses?.[0]?.ready).toBe(false);
  });

  it('reports a Job failed when its pod is marked "fail", and Complete when not', async () => {
    const ns = await newNamespace('jobs');
    const job = (name: string, annotations: Record<string, string>): k8s.V1Job => ({
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.invalid/c:1' }] } },
      },
    });
    await admin.batch.createNamespacedJob({ namespace: ns, body: job('good', {}) });
    await admin.batch.createNamespacedJob({ namespace: ns, body: job('bad', { 'mmo.dev/rig-fault': 'fail' }) });
    const condition = async (name: string) =>
      (await admin.batch.readNamespacedJob({ namespace: ns, name })).status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;
    expect(await eventually('the good Job to finish', () => condition('good'))).toBe('Complete');
    expect(await eventually('the bad Job to finish', () => condition('bad'))).toBe('Failed');
  });

  it('gives LoadBalancer Services an address unless marked "no-address"', async () => {
    const ns = await newNamespace('lb');
    const svc = (name: string, annotations: Record<string, string>): k8s.V1Service => ({
      metadata: { name, annotations },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
    });
    await admin.core.createNamespacedService({ namespace: ns, body: svc('public', {}) });
    await admin.core.createNamespacedService({ namespace: ns, body: svc('pending', { 'mmo.dev/rig-fault': 'no-address' }) });
    const ip = await eventually('an ingress address', async () =>
      (await admin.core.readNamespacedService({ namespace: ns, name: 'public' })).status?.loadBalancer?.ingress?.[0]?.ip,
    );
    expect(ip).toMatch(/^198\.51\.100\.\d+$/);
    const pending = await admin.core.readNamespacedService({ namespace: ns, name: 'pending' });
    expect(pending.status?.loadBalancer?.ingress ?? []).toEqual([]);
  });
});

describe.each(HELM_MAJORS)('helm %i on the rig', (major) => {
  const helmPath = () => inject('helmPaths')[major];
  const run = (args: string[], timeoutMs?: number) => helm(helmPath(), rig.kubeconfig, args, timeoutMs);
  let ns = '';
  const release = 'smoke';

  beforeAll(async () => {
    ns = await newNamespace(`helm${major}`);
    const { stdout } = await run(['version', '--short']);
    expect(stdout.trim().startsWith(HELM_PINS[major].version)).toBe(true);
  });

  it('installs a chart with a Deployment, a StatefulSet with a volume, a Job hook and a LoadBalancer, `--wait` returning once the rig reports each ready, bound, complete and addressed', async () => {
    const res = await run(['install', release, CHART, '-n', ns, '--wait', '--wait-for-jobs', '--timeout', '90s']);
    expect(res.stderr + res.stdout).not.toMatch(/Error/);
    expect(res.code).toBe(0);
    const dep = await admin.apps.readNamespacedDeployment({ namespace: ns, name: `${release}-web` });
    expect(dep.status?.readyReplicas).toBe(2);
    const pvcs = (await admin.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items;
    expect(pvcs.map((p) => [p.metadata?.name, p.status?.phase])).toEqual([[`data-${release}-db-0`, 'Bound']]);
    expect(pvcs[0]?.spec?.storageClassName).toBe('standard');
    const svc = await admin.core.readNamespacedService({ namespace: ns, name: `${release}-web` });
    expect(svc.status?.loadBalancer?.ingress?.[0]?.ip).toMatch(/^198\.51\.100\.\d+$/);
    const job = await admin.batch.readNamespacedJob({ namespace: ns, name: `${release}-migrate` });
    expect(job.status?.succeeded).toBe(1);
  });

  it('reports the test pod complete, so `helm test` passes, and failed when it is marked to fail', async () => {
    const ok = await run(['test', release, '-n', ns, '--timeout', '60s']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Phase:\s+Succeeded/);

    const upgrade = await run(['upgrade', release, CHART, '-n', ns, '--reuse-values', '--set', 'testAnnotations.mmo\\.dev/rig-fault=fail', '--wait', '--timeout', '60s']);
    expect(upgrade.code).toBe(0);
    const failed = await run(['test', release, '-n', ns, '--timeout', '60s']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr + failed.stdout).toMatch(/failed/i);
  });

  it('rolls the Deployment to a new ReplicaSet on `helm upgrade`', async () => {
    const rsOf = async () =>
      (await admin.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app.kubernetes.io/component=web' })).items;
    const before = await rsOf();
    const res = await run(['upgrade', release, CHART, '-n', ns, '--reuse-values', '--set', `revision=${Date.now()}`, '--wait', '--timeout', '90s']);
    expect(res.code).toBe(0);
    const after = await rsOf();
    expect(after.length).toBe(before.length + 1);
    const fresh = after.find((rs) => !before.some((b) => b.metadata?.uid === rs.metadata?.uid));
    expect(fresh?.status?.readyReplicas).toBe(2);
    await eventually('the old ReplicaSet scaled to 0', async () => {
      const old = (await rsOf()).filter((rs) => rs.metadata?.uid !== fresh?.metadata?.uid);
      return old.every((rs) => (rs.status?.replicas ?? 0) === 0) ? true : undefined;
    });
  });

  it('rolls an upgrade whose pods are reported never ready back to the release reported Ready', async () => {
    const rollbackFlag = major === 3 ? '--atomic' : '--rollback-on-failure';
    const before = await admin.apps.readNamespacedDeployment({ namespace: ns, name: `${release}-web` });
    const revisionBefore = before.spec?.template.metadata?.annotations?.['smoke/revision'];
    const res = await run([
      'upgrade', release, CHART, '-n', ns, '--reuse-values', rollbackFlag, '--wait', '--timeout', '10s',
      '--set', 'revision=broken', '--set', 'podAnnotations.mmo\\.dev/rig-fault=never-ready',
    ]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/roll(ed)? ?back|rollback/i);
    const history = await run(['history', release, '-n', ns, '-o', 'json']);
    const last = (JSON.parse(history.stdout) as { status: string; description: string }[]).at(-1);
    expect(last?.status).toBe('deployed');
    expect(last?.description).toMatch(/Rollback/i);
    const after = await eventually('the Deployment back on the previous template, all ready', async () => {
      const d = await admin.apps.readNamespacedDeployment({ namespace: ns, name: `${release}-web` });
      const sameTemplate = d.spec?.template.metadata?.annotations?.['smoke/revision'] === revisionBefore;
      return sameTemplate && d.status?.readyReplicas === 2 && d.status.updatedReplicas === 2 ? d : undefined;
    });
    expect(after.spec?.template.metadata?.annotations?.['mmo.dev/rig-fault']).toBeUndefined();
  });

  it('fails `helm install --wait` within its timeout when pods are reported never ready', async () => {
    const timeoutS = 10;
    const res = await run([
      'install', 'stuck', CHART, '-n', ns, '--wait', '--timeout', `${timeoutS}s`,
      '--set', 'podAnnotations.mmo\\.dev/rig-fault=never-ready', '--set', 'replicas=1',
    ]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/context deadline exceeded|timed out|not ready|timeout/i);
    expect(res.ms).toBeGreaterThanOrEqual(timeoutS * 1000);
    expect(res.ms).toBeLessThan(timeoutS * 1000 + 20_000);
    const pods = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/instance=stuck,app.kubernetes.io/component=web' })).items;
    expect(pods.length).toBe(1);
    expect(pods[0]?.status?.phase).toBe('Running');
    expect(pods[0]?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });
});
