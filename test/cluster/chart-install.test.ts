// The real mmo chart on a real API server: installs of the dev and production presets in namespaces
// that enforce Pod Security "restricted", with helm 3 and helm 4. One install per (helm, preset) is
// shared by the tests of its block, which run in order (install → test → upgrade → canary →
// promotion → failed upgrade) as a release's life would; blocks run one after another, so at most one
// production-sized release holds the rig's 12 CPUs at a time. The canary and the failed upgrade run on
// production only, where one game server per node makes them tightest; dev shares their templates.
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { LABELS } from '../../contract/labels.ts';
import { CHART_DIR, PRESETS_DIR, type Preset } from '../support/chart.ts';
import { HELM_MAJORS, clients, eventually, helm, uniqueName, type HelmResult } from './kube.ts';
import { ensureMonitoringCrds, freeNodePort, jobFinished, liveServerConfig, podSecurityNamespace, sampleWhile, secretsOf, warnings, watchJobs } from './mmo-chart.ts';

const rig = inject('rig');
const admin = clients(rig.kubeconfig);
const RELEASE = 'game';
const STABLE = 'game-mmo-server';
const CANARY = 'game-mmo-server-canary';
const GENERATED_SECRETS = ['game-mmo-postgres', 'game-mmo-rabbitmq', 'game-mmo-redis', 'game-mmo-server'];

interface Flavour {
  preset: Preset;
  /** Stable game servers the release runs. */
  gameServers: number;
  /** Requested size of each bundled service's volume. */
  volumes: Record<string, string>;
  /** Settings the rig needs on top of the preset. */
  args: () => Promise<string[]>;
}

const FLAVOURS: Flavour[] = [
  { preset: 'dev', gameServers: 1, volumes: { postgres: '1Gi', redis: '512Mi', rabbitmq: '1Gi' }, args: async () => [] },
  {
    preset: 'production',
    gameServers: 2,
    volumes: { postgres: '50Gi', redis: '5Gi', rabbitmq: '10Gi' },
    args: async () => [
      // The studio's registry and the version it ships; every image setting the canary flow moves.
      '--set', 'image.repository=registry.rig.invalid/studio/mmo-server', '--set', 'image.tag=0.1.0',
      // The rig has three nodes and production keeps one game server per node (required
      // anti-affinity): two stable pods leave a node for the rollout surge or the canary.
      '--set', 'gameServer.autoscaling.minReplicas=2',
      // Node ports are cluster-wide: another install may hold the preset's 30000.
      '--set', `udp.nodePort=${await freeNodePort(admin)}`,
    ],
  },
];

const ready = (p: k8s.V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

describe.each(HELM_MAJORS.flatMap((major) => FLAVOURS.map((f) => ({ major, ...f }))))(
  'helm $major installs the $preset preset where Pod Security "restricted" is enforced',
  ({ major, preset, gameServers, volumes, args }) => {
    const helmPath = () => inject('helmPaths')[major];
    const run = (a: string[], timeoutMs = 150_000) => helm(helmPath(), rig.kubeconfig, a, timeoutMs);
    const rollbackFlag = major === 3 ? '--atomic' : '--rollback-on-failure';
    let ns = '';
    let base: string[] = [];
    /** Values of the release as it should now be deployed (grows as the tests upgrade it). */
    let current: string[] = [];
    let install: HelmResult;
    let secretsAtInstall: Record<string, Record<string, string>> = {};

    const upgrade = (extra: string[], flags: string[] = ['--wait', '--timeout', '90s']) =>
      run(['upgrade', RELEASE, CHART_DIR, '-n', ns, ...base, ...extra, ...flags]);
    const deployment = (name: string) => admin.apps.readNamespacedDeployment({ namespace: ns, name });
    /**
     * The stable Deployment once its rollout has settled. `helm --wait` returns when the new pods are
     * ready, while the old ones may still be counted for a moment.
     */
    const settled = (what: string) =>
      eventually(what, async () => {
        const d = await deployment(STABLE);
        const s = d.status;
        const done = s?.observedGeneration === d.metadata?.generation && s?.updatedReplicas === gameServers;
        return done && s?.readyReplicas === gameServers && s.replicas === gameServers ? d : undefined;
      }, 30_000);

    beforeAll(async () => {
      ns = await podSecurityNamespace(admin, uniqueName(`mmo-${preset}-h${major}`), 'restricted');
      if (preset === 'production') await ensureMonitoringCrds(admin);
      base = ['-f', join(PRESETS_DIR, `${preset}.yaml`), ...(await args())];
      install = await run(['install', RELEASE, CHART_DIR, '-n', ns, ...base, '--wait', '--timeout', '90s']);
      secretsAtInstall = await secretsOf(admin, ns);
    });

    afterAll(async () => {
      // Uninstall first: the per-node UDP modes own cluster-scoped RBAC that namespace deletion leaves.
      await run(['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '60s']);
      await admin.core.deleteNamespace({ name: ns }).catch(() => {});
    });

    it('installs with --wait: every pod admitted and reported Ready by the rig (no container runs), each data service on a bound volume', async () => {
      expect(install.stderr).not.toMatch(/violate PodSecurity/);
      expect(install.code, install.stderr).toBe(0);
      const stable = await deployment(STABLE);
      expect(stable.spec?.replicas).toBe(gameServers);
      expect(stable.status?.readyReplicas).toBe(gameServers);
      const pods = (await admin.core.listNamespacedPod({ namespace: ns })).items;
      expect(pods.filter((p) => p.status?.phase !== 'Succeeded' && !ready(p)).map((p) => `${p.metadata?.name} ${p.status?.phase}`)).toEqual([]);
      expect((await warnings(admin, ns)).filter((w) => /FailedCreate|forbidden|PodSecurity/.test(w))).toEqual([]);
      for (const [svc, size] of Object.entries(volumes)) {
        const sts = await admin.apps.readNamespacedStatefulSet({ namespace: ns, name: `game-mmo-${svc}` });
        expect(sts.status?.readyReplicas, svc).toBe(1);
        const pvc = await admin.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: `data-game-mmo-${svc}-0` });
        expect([pvc.status?.phase, pvc.spec?.resources?.requests?.storage, pvc.spec?.storageClassName], svc).toEqual(['Bound', size, 'standard']);
      }
      if (preset === 'production') {
        const game = await admin.core.readNamespacedService({ namespace: ns, name: STABLE });
        expect(game.status?.loadBalancer?.ingress?.[0]?.ip).toMatch(/^198\.51\.100\.\d+$/);
        const udp = await admin.core.readNamespacedService({ namespace: ns, name: `${STABLE}-udp` });
        expect(udp.spec?.ports?.[0]).toMatchObject({ protocol: 'UDP', nodePort: Number(base.find((a) => a.startsWith('udp.nodePort='))!.split('=')[1]) });
        const hpa = await admin.kc.makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: STABLE });
        expect(hpa.spec?.minReplicas).toBe(gameServers);
      }
    });

    it('holds an environment the game server accepts: settings from the ConfigMap, credentials from the generated Secrets', async () => {
      const { env, config } = await liveServerConfig(admin, ns, STABLE);
      expect(config.publicUrl).toBe(`http://${STABLE}.${ns}.svc:8080`);
      for (const v of [ENV.databaseUrl, ENV.redisUrl, ENV.amqpUrl, ENV.authSecret, ENV.adminToken]) {
        expect(env[v.name], v.name).toMatchObject({ source: 'secret', from: { name: STABLE } });
      }
      expect(config.adminToken).toMatch(/^[A-Za-z0-9]{40}$/);
      // The URLs carry the very passwords the data services were started with.
      const s = secretsAtInstall;
      expect(new URL(config.databaseUrl!).password).toBe(s['game-mmo-postgres']!.password);
      expect(new URL(config.databaseUrl!).hostname).toBe(`game-mmo-postgres.${ns}.svc`);
      expect(new URL(config.redisUrl!).password).toBe(s['game-mmo-redis']!.password);
      expect(new URL(config.amqpUrl!).password).toBe(s['game-mmo-rabbitmq']!.password);
    });

    it('`helm test` passes as far as the rig shows: the test pod is admitted and reported complete (the bot it runs: loadtest suite)', async () => {
      const res = await run(['test', RELEASE, '-n', ns, '--timeout', '60s']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/game-mmo-test-players[\s\S]*Phase:\s+Succeeded/);
    });

    it('upgrades: the migration hook Job is admitted and reported Complete (the migrations: server suite), the game servers roll to new pods reported Ready, every generated Secret stays the same', async () => {
      current = ['--set', 'gameServer.config.logLevel=warn'];
      const before = await deployment(STABLE);
      const { result, jobs } = await watchJobs(admin, ns, () => upgrade(current));
      expect(result.code, result.stderr).toBe(0);
      const migrate = jobs.get('game-mmo-migrate');
      expect(migrate, `Jobs seen: ${[...jobs.keys()].join(', ')}`).toBeDefined();
      expect(jobFinished(migrate!)).toBe('Complete');
      const after = await settled('the game servers rolled: every pod updated and ready');
      expect(after.metadata?.generation).toBeGreaterThan(before.metadata!.generation!);
      const secrets = await secretsOf(admin, ns);
      for (const name of GENERATED_SECRETS) expect(secrets[name], name).toEqual(secretsAtInstall[name]);
      expect((await liveServerConfig(admin, ns, STABLE)).config.logLevel).toBe('warn');
    });

    // Once per helm major, on production: one game server per node leaves exactly one node for the canary.
    if (preset === 'production') it('adds a canary Deployment behind the same Services when canary.enabled, and removes it on promotion', async () => {
      const on = await upgrade([...current, '--set', 'canary.enabled=true', '--set', 'canary.image.tag=0.2.0']);
      expect(on.code, on.stderr).toBe(0);
      const canary = await deployment(CANARY);
      expect(canary.metadata?.labels?.[LABELS.track]).toBe('canary');
      expect(canary.spec?.template.spec?.containers[0]?.image).toMatch(/:0\.2\.0$/);
      expect(canary.status?.readyReplicas).toBe(1);
      // The game Service sends players to the canary's pod too.
      const canaryPods = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.track}=canary` })).items;
      const canaryIp = canaryPods[0]?.status?.podIP;
      expect(canaryIp).toBeTruthy();
      await eventually('the canary pod among the game Service endpoints', async () => {
        const slices = await admin.kc.makeApiClient(k8s.DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${STABLE}` });
        return slices.items.some((s) => (s.endpoints ?? []).some((e) => e.addresses.includes(canaryIp!) && e.conditions?.ready)) ? true : undefined;
      }, 20_000);

      current = [...current, '--set', 'image.tag=0.2.0'];
      const promoted = await upgrade(current);
      expect(promoted.code, promoted.stderr).toBe(0);
      await eventually('the canary Deployment and its pods gone', async () => {
        const gone = (await admin.apps.listNamespacedDeployment({ namespace: ns, labelSelector: `${LABELS.track}=canary` })).items.length === 0;
        const podsGone = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.track}=canary` })).items.length === 0;
        return gone && podsGone ? true : undefined;
      }, 30_000);
      const stable = await settled('the promoted image on every stable pod, each ready');
      expect(stable.spec?.template.spec?.containers[0]?.image).toMatch(/:0\.2\.0$/);
    });

    // Once per helm major, on the preset where a stuck rollout matters most (one game server per node).
    if (preset === 'production') it('rolls back an upgrade whose game servers are reported never ready, readyReplicas of the stable Deployment never dropping meanwhile', async () => {
      const secretsBefore = await secretsOf(admin, ns);
      const templateBefore = (await deployment(STABLE)).spec?.template.metadata?.annotations;
      const { result, samples } = await sampleWhile(
        () => upgrade([...current, '--set', 'gameServer.podAnnotations.mmo\\.dev/rig-fault=never-ready'], [rollbackFlag, '--wait', '--timeout', '10s']),
        async () => (await deployment(STABLE)).status?.readyReplicas ?? 0,
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/roll(ed)? ?back|rollback/i);
      expect(samples.length).toBeGreaterThan(10);
      expect(Math.min(...samples), 'ready game servers during the failed upgrade').toBe(gameServers);
      const history = JSON.parse((await run(['history', RELEASE, '-n', ns, '-o', 'json'])).stdout) as { status: string; description: string }[];
      expect(history.at(-1)).toMatchObject({ status: 'deployed', description: expect.stringMatching(/Rollback/i) });
      const restored = await settled('the previous pod template, every pod updated and ready');
      expect(restored.spec?.template.metadata?.annotations).toEqual(templateBefore);
      expect(await secretsOf(admin, ns)).toEqual(secretsBefore);
    });
  },
);

describe.each(HELM_MAJORS)('helm %i, with rights in one namespace only', (major) => {
  const tenant = clients(rig.restrictedKubeconfig);
  const ns = rig.restrictedNamespace;
  const release = uniqueName('tenant');
  const run = (a: string[]) => helm(inject('helmPaths')[major], rig.restrictedKubeconfig, a, 150_000);
  const adminSecret = `${release}-ops-admin`;

  afterAll(async () => {
    await run(['uninstall', release, '-n', ns, '--wait', '--timeout', '60s']);
    // Kept on uninstall by design (helm.sh/resource-policy: keep); this namespace is shared.
    for (const s of (await tenant.core.listNamespacedSecret({ namespace: ns, labelSelector: `app.kubernetes.io/instance=${release}` })).items) {
      await tenant.core.deleteNamespacedSecret({ namespace: ns, name: s.metadata!.name! });
    }
    await tenant.core.deleteNamespacedSecret({ namespace: ns, name: adminSecret }).catch(() => {});
    // StatefulSet volumes outlive the release too.
    await tenant.core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace: ns, labelSelector: `app.kubernetes.io/instance=${release}` });
  });

  it("installs the dev preset with the studio's admin token, then generates one when the upgrade drops it, keeping every other credential", async () => {
    const server = `${release}-mmo-server`;
    const token = 'studio-admin-token-0123456789';
    await tenant.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: adminSecret }, stringData: { adminToken: token } } });
    const base = ['-f', join(PRESETS_DIR, 'dev.yaml')];
    const installed = await run(['install', release, CHART_DIR, '-n', ns, ...base, '--set', `gameServer.admin.existingSecret=${adminSecret}`, '--wait', '--timeout', '90s']);
    expect(installed.code, installed.stderr).toBe(0);
    const first = await liveServerConfig(tenant, ns, server);
    expect(first.config.adminToken).toBe(token);
    const before = await secretsOf(tenant, ns);
    expect(Object.keys(before[server]!)).not.toContain(ENV.adminToken.name);

    // What an installation from before the chart generated the token sees on upgrade.
    const upgraded = await run(['upgrade', release, CHART_DIR, '-n', ns, ...base, '--wait', '--timeout', '90s']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const after = await secretsOf(tenant, ns);
    const { [ENV.adminToken.name]: generated, ...rest } = after[server]!;
    expect(generated).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(rest).toEqual(before[server]);
    for (const name of ['postgres', 'redis', 'rabbitmq']) expect(after[`${release}-mmo-${name}`]).toEqual(before[`${release}-mmo-${name}`]);
    expect((await liveServerConfig(tenant, ns, server)).config.adminToken).toBe(generated);
  });
});

describe.each(HELM_MAJORS)('helm %i, with an external PostgreSQL, where Pod Security "restricted" is enforced', (major) => {
  const run = (a: string[], timeoutMs = 150_000) => helm(inject('helmPaths')[major], rig.kubeconfig, a, timeoutMs);
  const dbSecret = 'studio-db';
  // Nothing listens there: the rig never runs a container, the migration pod just completes.
  const dbUrl = 'postgres://game:studio-password@db.rig.invalid:5432/mmo';
  let ns = '';
  let base: string[] = [];

  beforeAll(async () => {
    ns = await podSecurityNamespace(admin, uniqueName(`mmo-extdb-h${major}`), 'restricted');
    await admin.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: dbSecret }, stringData: { url: dbUrl } } });
    base = ['-f', join(PRESETS_DIR, 'dev.yaml'), '--set', 'postgres.enabled=false', '--set', 'postgres.external.host=db.rig.invalid', '--set', `postgres.external.existingSecret=${dbSecret}`];
  });

  afterAll(async () => {
    await run(['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '60s']);
    await admin.core.deleteNamespace({ name: ns }).catch(() => {});
  });

  const migrateAccounts = async () =>
    (await admin.core.listNamespacedServiceAccount({ namespace: ns, labelSelector: `${LABELS.component}=migrate` })).items.map((a) => a.metadata!.name);

  it('installs with --wait: the pre-install migration Job is admitted (its ServiceAccount made first) and reported Complete; upgrade and uninstall leave no account behind', async () => {
    // The migration Job is a pre-install hook here, so anything it needs must exist before helm
    // creates the release's ordinary objects; else its pod is refused and the install hangs.
    const { result, jobs } = await watchJobs(admin, ns, () => run(['install', RELEASE, CHART_DIR, '-n', ns, ...base, '--wait', '--timeout', '60s']));
    expect(result.code, result.stderr).toBe(0);
    const migrate = jobs.get('game-mmo-migrate');
    expect(migrate, `Jobs seen: ${[...jobs.keys()].join(', ')}`).toBeDefined();
    expect(jobFinished(migrate!)).toBe('Complete');
    expect((await warnings(admin, ns)).filter((w) => /FailedCreate|forbidden|PodSecurity/.test(w))).toEqual([]);
    expect((await admin.apps.readNamespacedDeployment({ namespace: ns, name: STABLE })).status?.readyReplicas).toBe(1);
    expect((await admin.apps.listNamespacedStatefulSet({ namespace: ns })).items.map((s) => s.metadata!.name).sort()).toEqual(['game-mmo-rabbitmq', 'game-mmo-redis']);
    const { config } = await liveServerConfig(admin, ns, STABLE);
    expect(config.databaseUrl).toBe(dbUrl);
    // The account is a hook deleted with the Job once the hooks succeed.
    expect(await migrateAccounts()).toEqual([]);

    const upgrade = await watchJobs(admin, ns, () => run(['upgrade', RELEASE, CHART_DIR, '-n', ns, ...base, '--set', 'gameServer.config.logLevel=warn', '--wait', '--timeout', '60s']));
    expect(upgrade.result.code, upgrade.result.stderr).toBe(0);
    expect(jobFinished(upgrade.jobs.get('game-mmo-migrate')!)).toBe('Complete');

    const removed = await run(['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '60s']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await migrateAccounts()).toEqual([]);
    expect((await admin.batch.listNamespacedJob({ namespace: ns })).items).toEqual([]);
  });
});
