// mmoctl against a real Kubernetes API server, with the real helm 3 and 4: preflight that passes on
// a good namespace and fails, naming the cause, on the clusters and values that cannot work; then the
// production preset's life — install into a "restricted" namespace, the same install again (no
// change), an upgrade whose pods never become ready (rolled back), rollback, history, uninstall.
//
// This file brings up a rig of its own: the missing-CRD case needs a cluster where prometheus-
// operator's kinds were never created, and a production install needs the nodes' room to itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABELS } from '../../contract/labels.ts';
import { down, up, type RigInfo } from '../../scripts/rig/rig.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import { MMOCTL, json, mmoctl, type CliRun } from '../support/cli.ts';
import { HELM_MAJORS, clients, eventually, helm, uniqueName } from './kube.ts';
import { ensureMonitoringCrds, freeNodePort, podSecurityNamespace, secretsOf, type Clients } from './mmo-chart.ts';

interface CheckResult {
  id: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  message?: string;
}
interface PreflightDoc {
  kind: string;
  results: CheckResult[];
  summary: Record<string, number>;
}

const stateDir = join(PROJECT_ROOT, '.tmp', 'rig-cli');
let rig: RigInfo;
let admin: Clients;
const helmPath = (major: 3 | 4) => inject('helmPaths')[major];
const cli = (args: string[], opts: { kubeconfig?: string; major?: 3 | 4; timeoutMs?: number } = {}) =>
  mmoctl(args, { kubeconfig: opts.kubeconfig ?? rig.kubeconfig, helm: helmPath(opts.major ?? 3), timeoutMs: opts.timeoutMs });

const results = (run: CliRun) => json<PreflightDoc>(run).results ?? json<{ preflight: PreflightDoc }>(run).preflight.results;
const failed = (run: CliRun) => results(run).filter((r) => r.status === 'fail');

beforeAll(async () => {
  rig = await up({ stateDir });
  admin = clients(rig.kubeconfig);
}, 180_000);

afterAll(async () => {
  if (process.env.MMOCTL_RIG_KEEP === '1') return;
  await down({ stateDir });
  await rm(`${stateDir}.lock`, { force: true });
  await rm(`${stateDir}.lock.holder`, { force: true });
});

describe('mmoctl preflight', () => {
  it('passes on a fresh restricted namespace for the dev preset, every check passing or not applicable', async () => {
    const ns = await podSecurityNamespace(admin, uniqueName('pf-ok'), 'restricted');
    const run = await cli(['preflight', '--profile', 'dev', '-n', ns, '-o', 'json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const doc = json<PreflightDoc>(run);
    expect(doc.kind).toBe('PreflightReport');
    expect(doc.results.filter((r) => r.status === 'fail' || r.status === 'warn')).toEqual([]);
    expect(doc.results.find((r) => r.id === 'admission.dry-run')?.status).toBe('pass');
    expect(doc.results.find((r) => r.id === 'rbac.release')?.status).toBe('pass');
  });

  it('fails naming the missing kinds when monitoring is on and prometheus-operator is not installed', async () => {
    const ns = await podSecurityNamespace(admin, uniqueName('pf-crd'), 'restricted');
    const run = await cli(['preflight', '--profile', 'dev', '-n', ns, '--set', 'monitoring.serviceMonitor.enabled=true', '-o', 'json']);
    expect(run.code).toBe(3);
    expect(failed(run).map((r) => r.id)).toEqual(['cluster.crds']);
    expect(failed(run)[0]!.message).toMatch(/no ServiceMonitor kind.*--set monitoring\.serviceMonitor\.enabled=false/s);
  });

  it('fails naming the verb, resource and namespace that a Role leaves out', async () => {
    const ns = await podSecurityNamespace(admin, uniqueName('pf-rbac'), 'restricted');
    const kubeconfig = await serviceAccountKubeconfig(ns, [
      { apiGroups: ['', 'apps', 'batch', 'policy', 'autoscaling', 'discovery.k8s.io', 'rbac.authorization.k8s.io'], resources: ['*'], verbs: ['*'] },
      // Everything on NetworkPolicies but delete.
      { apiGroups: ['networking.k8s.io'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
    ]);
    const run = await cli(['preflight', '--profile', 'dev', '-n', ns, '-o', 'json'], { kubeconfig });
    expect(run.code).toBe(3);
    const rbac = failed(run).find((r) => r.id === 'rbac.release');
    expect(rbac?.message).toContain(`delete networkpolicies.networking.k8s.io in namespace ${ns}`);
    expect(rbac?.message).not.toMatch(/ create networkpolicies/);
    // Cluster-wide reads this user lacks are warnings, not failures.
    expect(results(run).find((r) => r.id === 'rbac.read')?.status).toBe('warn');
  });

  it('fails naming the cluster-scoped kinds a namespace-only user may not create (the per-node UDP modes)', async () => {
    const run = await cli(['preflight', '--profile', 'dev', '-n', rig.restrictedNamespace, '--set', 'udp.mode=nodePort', '--set', `udp.nodePort=${await freeNodePort(admin)}`, '-o', 'json'], { kubeconfig: rig.restrictedKubeconfig });
    expect(run.code).toBe(3);
    const rbac = failed(run).find((r) => r.id === 'rbac.release');
    expect(rbac?.message).toMatch(/create clusterroles\.rbac\.authorization\.k8s\.io \(cluster-wide\)/);
    expect(rbac?.message).toMatch(/create clusterrolebindings\.rbac\.authorization\.k8s\.io \(cluster-wide\)/);
  });

  it('fails when no node has room for a game server', async () => {
    const ns = await podSecurityNamespace(admin, uniqueName('pf-cap'), 'restricted');
    const run = await cli(['preflight', '--profile', 'dev', '-n', ns, '--set', 'gameServer.resources.requests.cpu=5', '--set', 'gameServer.resources.limits.cpu=6', '-o', 'json']);
    expect(run.code).toBe(3);
    expect(failed(run).map((r) => r.id)).toEqual(['capacity.fit']);
    expect(failed(run)[0]!.message).toMatch(/Deployment\/mmo-server \(2 pods\): it requests 5 CPU/);
  });

  it('refuses a host UDP mode where Pod Security "restricted" is enforced', async () => {
    const ns = await podSecurityNamespace(admin, uniqueName('pf-psa'), 'restricted');
    const run = await cli(['preflight', '--profile', 'dev', '-n', ns, '--set', 'udp.mode=hostPort', '-o', 'json']);
    expect(run.code).toBe(3);
    const psa = failed(run).find((r) => r.id === 'udp.pod-security');
    expect(psa?.message).toMatch(/hostPort needs host ports, which Pod Security "restricted".*--set udp\.mode=nodePort/s);
  });

  it('fails naming the Service that already holds the UDP node port', async () => {
    const port = await freeNodePort(admin);
    const other = uniqueName('pf-taker');
    await admin.core.createNamespace({ body: { metadata: { name: other } } });
    await admin.core.createNamespacedService({ namespace: other, body: { metadata: { name: 'holder' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 9, protocol: 'UDP', nodePort: port }] } } });
    const ns = await podSecurityNamespace(admin, uniqueName('pf-port'), 'restricted');
    const run = await cli(['preflight', '--profile', 'dev', '-n', ns, '--set', 'udp.mode=nodePort', '--set', `udp.nodePort=${port}`, '-o', 'json']);
    expect(run.code).toBe(3);
    const udp = failed(run).find((r) => r.id === 'udp.port');
    expect(udp?.message).toContain(`node port ${port} is taken by Service ${other}/holder`);
  });

  it('stops install before anything is created when preflight fails, and shows the checks', async () => {
    const ns = uniqueName('pf-stop');
    const run = await cli(['install', '--profile', 'dev', '-n', ns, '--create-namespace', '--set', 'gameServer.resources.requests.cpu=5', '--set', 'gameServer.resources.limits.cpu=6']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/× the nodes have room for the release/);
    expect(run.stderr).toMatch(/install stopped: 1 preflight check failed; nothing was changed/);
    expect(await admin.core.readNamespace({ name: ns }).then(() => 'exists', () => 'absent')).toBe('absent');
  });
});

describe.each(HELM_MAJORS)('mmoctl runs the production preset with helm %i', (major) => {
  let ns = '';
  let base: string[] = [];
  let installed: Record<string, unknown> = {};
  const run = (args: string[], timeoutMs?: number) => cli([...args, '-n', ns], { major, timeoutMs });

  beforeAll(async () => {
    await ensureMonitoringCrds(admin);
    ns = uniqueName(`cli-prod-h${major}`);
    // The rig has three nodes and production keeps one game server per node: two stable pods leave
    // a node for the rollout surge. Node ports are cluster-wide.
    base = ['--profile', 'production', '--set', 'gameServer.autoscaling.minReplicas=2', '--set', `udp.nodePort=${await freeNodePort(admin)}`, '--timeout', '90s'];
  });

  afterAll(async () => {
    await cli(['uninstall', '--yes', '--purge', '-n', ns], { major });
    await admin.core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it('installs into a namespace it creates under Pod Security "restricted", verified as far as the rig reports (pods Ready, the `helm test` pod complete), and says where players connect', async () => {
    const r = await run(['install', ...base, '--create-namespace', '-o', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    installed = json(r);
    expect(installed).toMatchObject({ kind: 'InstallResult', action: 'installed', revision: 1, status: 'deployed', namespaceState: { created: true, podSecurity: 'restricted' } });
    expect(installed.verification).toMatchObject({ ok: true, test: { ok: true } });
    const nsObj = await admin.core.readNamespace({ name: ns });
    expect(nsObj.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const endpoints = installed.endpoints as { tcp: string[]; udp: { addresses: { address: string }[]; port: number } };
    expect(endpoints.tcp[0]).toMatch(/^ws:\/\/198\.51\.100\.\d+:8080\/ws$/);
    expect(endpoints.udp.addresses.map((a) => a.address).every((a) => /^203\.0\.113\.\d+$/.test(a))).toBe(true);
    expect(endpoints.udp.addresses).toHaveLength(2);
    expect(r.stderr).toMatch(/Preflight passed/);
  });

  it('changes nothing when run again with the same input, and says so', async () => {
    const r = await run(['install', ...base, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ action: 'unchanged', revision: 1 });
    const history = json<{ revisions: unknown[] }>(await run(['history', '-o', 'json']));
    expect(history.revisions).toHaveLength(1);
    const human = await run(['install', ...base]);
    expect(human.stdout).toMatch(/is unchanged: revision 1 already runs this chart and these values/);
  });

  it('rolls back an upgrade whose pods are reported never ready; the previous pods are the ones left, never replaced', async () => {
    const before = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.component}=game-server` })).items.map((p) => p.metadata!.name!).sort();
    const r = await run(['upgrade', ...base.filter((a) => a !== '90s' && a !== '--timeout'), '--timeout', '25s', '--version', '9.9.9', '--set', 'gameServer.podAnnotations.mmo\\.dev/rig-fault=never-ready'], 180_000);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/helm upgrade failed/);
    expect(r.stderr).toMatch(/helm rolled back: revision 3 runs revision 1's configuration again/);
    const d = await admin.apps.readNamespacedDeployment({ namespace: ns, name: 'mmo-server' });
    expect(d.spec?.template.metadata?.annotations?.['mmo.dev/rig-fault']).toBeUndefined();
    expect(d.spec?.template.spec?.containers[0]?.image).not.toContain('9.9.9');
    const after = await eventually('the failed pods to be gone', async () => {
      const pods = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.component}=game-server` })).items;
      return pods.length === before.length ? pods.map((p) => p.metadata!.name!).sort() : undefined;
    });
    expect(after).toEqual(before);
  });

  it('Ctrl-C during an upgrade rolls the Deployment back to the previous configuration; a release stuck pending by a killed helm is repaired by running install again', async () => {
    const before = (await admin.apps.readNamespacedDeployment({ namespace: ns, name: 'mmo-server' })).spec?.template.spec?.containers[0]?.image;
    const upgrade = spawnCli(['upgrade', ...base, '--version', '9.9.8', '--set', 'gameServer.podAnnotations.mmo\\.dev/rig-fault=never-ready', '-n', ns], major);
    await eventually('the upgrade to be under way', async () => ((await helmStatus(major, ns)) === 'pending-upgrade' ? true : undefined), 60_000);
    upgrade.child.kill('SIGINT');
    const interrupted = await upgrade.done;
    expect(interrupted.code).toBe(3);
    expect(interrupted.stderr).toMatch(/upgrade interrupted: .*helm rolled back: revision \d+ runs revision \d+'s configuration again/);
    await eventually('the previous image back in the Deployment', async () =>
      (await admin.apps.readNamespacedDeployment({ namespace: ns, name: 'mmo-server' })).spec?.template.spec?.containers[0]?.image === before ? true : undefined,
    );

    // helm killed outright (a lost terminal) leaves the release pending-upgrade.
    const stuck = spawnHelm(major, ['upgrade', 'mmo', join(PROJECT_ROOT, 'charts', 'mmo'), '-n', ns, '--reuse-values', '--set', 'image.tag=9.9.7', '--set', 'gameServer.podAnnotations.mmo\\.dev/rig-fault=never-ready', '--wait', '--timeout', '5m']);
    await eventually('helm to start the upgrade', async () => ((await helmStatus(major, ns)) === 'pending-upgrade' ? true : undefined), 60_000);
    stuck.kill('SIGKILL');
    const pf = await run(['preflight', ...base.filter((a) => a !== '--timeout' && a !== '90s'), '-o', 'json']);
    expect(results(pf).find((x) => x.id === 'release.state')).toMatchObject({ status: 'fail', message: expect.stringMatching(/is pending-upgrade.*mmoctl rollback/) });
    const repaired = await run(['install', ...base, '-o', 'json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(json(repaired)).toMatchObject({ repaired: expect.stringMatching(/rolled the interrupted revision \d+ \(pending-upgrade\) back to revision \d+/), status: 'deployed' });
  });

  it('rolls back to a chosen revision and lists every revision with the game server version it ran', async () => {
    const upgraded = await run(['upgrade', ...base, '--version', '0.3.0', '-o', 'json']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(json(upgraded)).toMatchObject({ action: 'upgraded', appVersion: '0.3.0', changes: { values: ['image.tag'] } });
    const rolled = await run(['rollback', '1', '-o', 'json']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(json(rolled)).toMatchObject({ kind: 'RollbackResult', to: 1, appVersion: '0.2.0' });
    const history = json<{ revisions: { revision: number; status: string; gameServer: string; description: string }[] }>(await run(['history', '-o', 'json']));
    const versions = history.revisions.map((h) => [h.status, h.gameServer]);
    expect(versions[0]).toEqual(['superseded', '0.2.0']);
    expect(versions[1]).toEqual(['failed', '9.9.9']);
    expect(versions).toContainEqual(['failed', '9.9.8']);
    expect(versions.at(-2)).toEqual(['superseded', '0.3.0']);
    expect(versions.at(-1)).toEqual(['deployed', '0.2.0']);
  });

  it('uninstall asks for --yes off a terminal, keeps volumes and generated Secrets, and a reinstall finds them; --purge removes them', async () => {
    expect((await run(['uninstall'])).code).toBe(2);
    const secretsBefore = await secretsOf(admin, ns);
    const kept = await run(['uninstall', '--yes', '-o', 'json']);
    expect(kept.code, kept.stderr).toBe(0);
    const doc = json<{ kept: { persistentVolumeClaims: string[]; secrets: string[] } }>(kept);
    expect(doc.kept.persistentVolumeClaims).toEqual(['data-mmo-postgres-0', 'data-mmo-rabbitmq-0', 'data-mmo-redis-0']);
    expect(doc.kept.secrets).toEqual(['mmo-postgres', 'mmo-rabbitmq', 'mmo-redis', 'mmo-server']);
    const pvcs = (await admin.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.map((p) => p.metadata!.name);
    expect(pvcs).toEqual(expect.arrayContaining(doc.kept.persistentVolumeClaims));

    const again = await run(['install', ...base, '-o', 'json']);
    expect(again.code, again.stderr).toBe(0);
    const secretsAfter = await secretsOf(admin, ns);
    for (const name of doc.kept.secrets) expect(secretsAfter[name], name).toEqual(secretsBefore[name]);

    const purged = await run(['uninstall', '--yes', '--purge', '-o', 'json']);
    expect(purged.code, purged.stderr).toBe(0);
    await eventually('volumes and Secrets gone', async () => {
      const left = (await admin.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.filter((p) => !p.metadata?.deletionTimestamp);
      const secrets = Object.keys(await secretsOf(admin, ns));
      return left.length === 0 && !secrets.some((s) => doc.kept.secrets.includes(s)) ? true : undefined;
    });
  });
});

/** mmoctl started in the background, to be interrupted. */
function spawnCli(args: string[], major: 3 | 4): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [MMOCTL, ...args], { env: { ...process.env, KUBECONFIG: rig.kubeconfig, MMOCTL_HELM: helmPath(major), NO_COLOR: '1', ...helmHomes() } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, done };
}

function spawnHelm(major: 3 | 4, args: string[]): ChildProcess {
  return spawn(helmPath(major), args, { env: { ...process.env, KUBECONFIG: rig.kubeconfig, ...helmHomes() }, stdio: 'ignore' });
}

function helmHomes(): Record<string, string> {
  const home = join(PROJECT_ROOT, '.tmp', 'helm-home');
  return { HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
}

async function helmStatus(major: 3 | 4, namespace: string): Promise<string | undefined> {
  const r = await helm(helmPath(major), rig.kubeconfig, ['status', 'mmo', '-n', namespace, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as { info: { status: string } }).info.status : undefined;
}

/** A kubeconfig for a new ServiceAccount bound to a Role with `rules` in `namespace`. */
async function serviceAccountKubeconfig(namespace: string, rules: k8s.V1PolicyRule[]): Promise<string> {
  const name = 'deployer';
  await admin.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const rbac = admin.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace }] } });
  const token = (await admin.core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status!.token;
  const cluster = admin.kc.getCurrentCluster()!;
  const file = join(PROJECT_ROOT, '.tmp', `${namespace}.kubeconfig`);
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'rig', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: 'rig', user: name, namespace } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return file;
}
