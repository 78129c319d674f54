// One behaviour suite over both `Kube` adapters against the rig's real API server: the HTTPS reader
// mmoctl uses by default and the client-node one it falls back to. Same answers, same errors.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectClientNode } from '../../cli/kube/client.ts';
import { HttpsKube } from '../../cli/kube/https.ts';
import { KubeError, type Kube } from '../../cli/kube/kube.ts';
import { loadConnection } from '../../cli/kube/kubeconfig.ts';
import { uniqueName } from './kube.ts';

const rig = inject('rig');
let dir = '';

const ADAPTERS: { name: string; connect: (target: { kubeconfig: string }) => Promise<Kube> }[] = [
  { name: 'HTTPS reader', connect: async (t) => new HttpsKube(loadConnection(t)) },
  { name: 'client-node', connect: (t) => connectClientNode(t) },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmoctl-kube-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The restricted kubeconfig, its token served by an exec credential plugin instead of written in. */
async function execKubeconfig(): Promise<string> {
  const kc = parse(readFileSync(rig.restrictedKubeconfig, 'utf8')) as { users: { name: string; user: Record<string, unknown> }[] };
  const token = kc.users[0]!.user.token as string;
  const plugin = join(dir, 'token-plugin.sh');
  await writeFile(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`);
  await chmod(plugin, 0o755);
  kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin, args: [], interactiveMode: 'Never' } };
  const file = join(dir, 'exec.kubeconfig');
  await writeFile(file, stringify(kc));
  return file;
}

describe.each(ADAPTERS)('the $name adapter', ({ connect }) => {
  let admin: Kube;
  beforeAll(async () => {
    admin = await connect({ kubeconfig: rig.kubeconfig });
  });

  it('reads the server version, lists and gets objects, and answers undefined for a missing one', async () => {
    expect((await admin.version()).gitVersion).toBe(rig.kubernetesVersion);
    const nodes = await admin.list('Node');
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(['rig-node-a', 'rig-node-b', 'rig-node-c']);
    expect(nodes[0]).toMatchObject({ apiVersion: 'v1', kind: 'Node' });
    expect((await admin.list('Node', { labelSelector: 'topology.kubernetes.io/zone=zone-b' })).map((n) => n.metadata?.name)).toEqual(['rig-node-b']);
    expect((await admin.get('Node', 'rig-node-a'))?.metadata?.name).toBe('rig-node-a');
    expect(await admin.get('Namespace', 'no-such-namespace')).toBeUndefined();
  });

  it('creates and deletes, dry-runs without changing anything, and reports a refusal with the API server\'s words', async () => {
    const ns = uniqueName('adapter');
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: ns }, data: { a: '1' } };
    await admin.dryRunApply(cm);
    await admin.dryRunCreate(cm);
    expect(await admin.list('ConfigMap', { namespace: ns, fieldSelector: 'metadata.name=c' })).toEqual([]);
    const bad = await admin.dryRunCreate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid', namespace: ns } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(KubeError);
    expect((bad as KubeError).status).toBe(422);
    expect((bad as KubeError).message).toMatch(/^cannot dry-run create ConfigMap Not_Valid: .*Not_Valid.*invalid/i);
    expect(await admin.delete('Namespace', ns)).toBe(true);
    expect(await admin.delete('ConfigMap', 'never-there', ns)).toBe(false);
  });

  it('discovers kinds, and knows a kind the cluster does not serve', async () => {
    expect(await admin.resource('apps/v1', 'Deployment')).toEqual({ plural: 'deployments', namespaced: true });
    expect(await admin.resource('rbac.authorization.k8s.io/v1', 'ClusterRole')).toEqual({ plural: 'clusterroles', namespaced: false });
    expect(await admin.resource('example.invalid/v1', 'Widget')).toBeUndefined();
  });

  it('answers access reviews for the user of the kubeconfig, token users through an exec credential plugin included', async () => {
    const tenant = await connect({ kubeconfig: await execKubeconfig() });
    const q = [
      { verb: 'create', group: '', resource: 'configmaps', namespace: rig.restrictedNamespace },
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
    ];
    expect((await tenant.canI(q)).map((a) => a.allowed)).toEqual([true, false]);
    expect((await admin.canI(q)).map((a) => a.allowed)).toEqual([true, true]);
    const denied = await tenant.list('Node').catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 403, reason: 'Forbidden' });
    expect((denied as Error).message).toMatch(/^cannot list Nodes: nodes is forbidden: User "system:serviceaccount:rig-tenant:tenant" cannot list/);
  });

  it('says an unreachable API server is unreachable, naming it', async () => {
    const kc = parse(readFileSync(rig.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    kc.clusters[0]!.cluster.server = `https://127.0.0.1:${port}`;
    const file = join(dir, `down-${Math.random().toString(36).slice(2)}.kubeconfig`);
    await writeFile(file, stringify(kc));
    const down = await connect({ kubeconfig: file });
    const err = await down.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).unreachable).toBe(true);
    expect((err as KubeError).message).toMatch(new RegExp(`https://127\\.0\\.0\\.1:${port} .*is not reachable \\(ECONNREFUSED\\)`));
  });
});
