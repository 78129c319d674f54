// The verdict of `mmoctl status` over a table of cluster states: the whole collect → judge path, with
// hand-written fakes of Kube and Helm holding a production-shaped release (release-world.ts).
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../contract/exit-codes.ts';
import { KubeError } from '../../../cli/kube/kube.ts';
import { collectStatus, ReleaseNotFound } from '../../../cli/status/collect.ts';
import type { ComponentId, ComponentState, Health } from '../../../cli/status/model.ts';
import { statusExitCode } from '../../../cli/status/verdict.ts';
import type { FakeHelm, FakeKube } from './fakes.ts';
import { NOW, REF, ReleaseWorld, report } from './release-world.ts';

interface Case {
  name: string;
  arrange?: (w: ReleaseWorld) => void;
  tweak?: (k: FakeKube, h: FakeHelm) => void;
  verdict: Health;
  /** Every reason, in order (worst first). */
  reasons: RegExp[];
  /** Every warning, in order. */
  warnings?: RegExp[];
  components?: Partial<Record<ComponentId, ComponentState>>;
  fix?: RegExp;
}

const CASES: Case[] = [
  {
    name: 'every part ready: healthy, nothing to say',
    verdict: 'healthy',
    reasons: [],
    warnings: [],
    components: { release: 'ok', 'game-server': 'ok', canary: 'absent', autoscaler: 'ok', postgres: 'ok', services: 'ok' },
  },
  {
    name: 'a crash-looping game server: degraded, with its restarts and how to see why',
    arrange: (w) => {
      w.crashLoop(w.pods.find((p) => p.metadata!.name!.startsWith('game-mmo-server-'))!, 7);
      w.deployments[0]!.status!.readyReplicas = 1;
      w.deployments[0]!.status!.availableReplicas = 1;
      w.pdbs[0]!.status = { currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0, expectedPods: 2 };
      w.syncSlices();
    },
    verdict: 'degraded',
    reasons: [/^1 of 2 game servers are ready$/, /^pod game-mmo-server-5d8f9c7b6-qak0 is crash-looping \(7 restarts, last exit Error \(code 1\) 1m ago\)$/],
    warnings: [/disruption budget allows no eviction now \(1 healthy, 1 needed\)/],
    fix: /kubectl logs -n game game-mmo-server-5d8f9c7b6-qak0 -c server --previous/,
    components: { 'game-server': 'degraded', 'disruption-budget': 'warning' },
  },
  {
    name: 'a pending volume claim keeps its data service down',
    arrange: (w) => {
      const pvc = w.find(w.pvcs, 'data-game-mmo-postgres-0');
      pvc.status = { phase: 'Pending' };
      pvc.spec!.storageClassName = 'fast-ssd';
      const sts = w.find(w.statefulSets, 'game-mmo-postgres');
      sts.status = { ...sts.status!, readyReplicas: 0, availableReplicas: 0 };
      const pod = w.find(w.pods, 'game-mmo-postgres-0');
      pod.spec!.nodeName = undefined;
      pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.' }] };
      w.event('PersistentVolumeClaim', 'data-game-mmo-postgres-0', 'ProvisioningFailed', 'storageclass.storage.k8s.io "fast-ssd" not found', 2, 12);
      w.syncSlices();
    },
    verdict: 'down',
    reasons: [
      /^postgres is down \(0 of 1 ready\): game servers are not ready without it$/,
      /^pod game-mmo-postgres-0 cannot be scheduled: 0\/3 nodes are available/,
      /^the volume claim data-game-mmo-postgres-0 is Pending \(storage class fast-ssd\): storageclass.storage.k8s.io "fast-ssd" not found$/,
    ],
    components: { postgres: 'down', volumes: 'degraded', 'game-server': 'ok' },
  },
  {
    name: 'game servers ready but the game Service has no ready endpoint: down',
    arrange: (w) => {
      for (const s of w.slices) if (s.metadata!.labels!['kubernetes.io/service-name'] === 'game-mmo-server') s.endpoints = [];
    },
    verdict: 'down',
    reasons: [/^the Service game-mmo-server has no ready endpoint: players cannot connect$/],
    fix: /kubernetes.io\/service-name=game-mmo-server/,
    components: { services: 'down', 'game-server': 'ok' },
  },
  {
    name: 'the LoadBalancer without an address: down, players outside cannot connect',
    arrange: (w) => {
      w.find(w.services, 'game-mmo-server').status = { loadBalancer: {} };
    },
    verdict: 'down',
    reasons: [/^the LoadBalancer Service game-mmo-server has no external address: players outside the cluster cannot connect$/],
  },
  {
    name: 'no game server ready: down, said once (not again for the empty Service)',
    arrange: (w) => {
      for (const p of w.pods.filter((x) => x.metadata!.name!.startsWith('game-mmo-server-'))) w.crashLoop(p, 3);
      w.deployments[0]!.status = { ...w.deployments[0]!.status, readyReplicas: 0, availableReplicas: 0 };
      w.syncSlices();
    },
    verdict: 'down',
    reasons: [/^no game server is ready \(0 of 2\): players cannot connect$/, /qak0 is crash-looping/, /wbk1 is crash-looping/],
  },
  {
    name: 'release pending-upgrade: degraded, repaired with mmoctl rollback',
    arrange: (w) => {
      w.release = { ...w.release!, revision: 4, status: 'pending-upgrade', updated: '2026-12-04T11:40:00Z', description: 'Preparing upgrade' };
      w.history.push({ revision: 4, updated: '2026-12-04T11:40:00Z', status: 'pending-upgrade', chart: 'mmo-0.3.0', appVersion: '0.3.0', description: 'Preparing upgrade' });
    },
    verdict: 'degraded',
    reasons: [/^the upgrade to revision 4 has not finished \(pending-upgrade since 2026-12-04 11:40 UTC, 20m ago\)$/],
    fix: /`mmoctl rollback` returns to revision 3, the last one deployed/,
    components: { release: 'degraded' },
  },
  {
    name: 'a failed upgrade: degraded, with helm\'s error and the revision a rollback returns to',
    arrange: (w) => {
      w.release = { ...w.release!, revision: 4, status: 'failed', updated: '2026-12-04T11:50:00Z', description: 'Upgrade "game" failed: context deadline exceeded' };
      w.history.push({ revision: 4, updated: '2026-12-04T11:50:00Z', status: 'failed', chart: 'mmo-0.3.0', appVersion: '0.3.0', description: 'Upgrade "game" failed: context deadline exceeded' });
    },
    verdict: 'degraded',
    reasons: [/^the last change failed \(revision 4, 2026-12-04 11:50 UTC\): Upgrade "game" failed: context deadline exceeded$/],
    fix: /`mmoctl rollback` returns to revision 3, the last one deployed/,
  },
  {
    name: 'a failed first install: degraded, repaired with mmoctl install again',
    arrange: (w) => {
      w.release = { ...w.release!, revision: 1, status: 'failed', description: 'Release "game" failed: timed out waiting for the condition' };
      w.history = [{ revision: 1, updated: w.release.updated, status: 'failed', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: w.release.description }];
    },
    verdict: 'degraded',
    reasons: [/^the last install failed \(revision 1, .*\): Release "game" failed: timed out waiting for the condition$/],
    fix: /run `mmoctl install` again/,
  },
  {
    name: 'pending-install: degraded, repaired with mmoctl install again',
    arrange: (w) => {
      w.release = { ...w.release!, revision: 1, status: 'pending-install' };
      w.history = [{ revision: 1, updated: w.release.updated, status: 'pending-install', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: 'Initial install underway' }];
    },
    verdict: 'degraded',
    reasons: [/^the install of revision 1 has not finished \(pending-install since/],
    fix: /run `mmoctl install` again/,
  },
  {
    name: 'the autoscaler unable to compute: still healthy, with a warning that says why and what to install',
    arrange: (w) => {
      const h = w.hpas[0]!;
      h.status = {
        currentReplicas: 2,
        desiredReplicas: 0,
        currentMetrics: [{ type: '' } as never],
        conditions: [
          { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' },
          { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)' },
        ],
      };
    },
    verdict: 'healthy',
    reasons: [],
    warnings: [/^the autoscaler cannot compute the replica count: FailedGetResourceMetric: the HPA was unable to compute/],
    fix: /install metrics-server/,
    components: { autoscaler: 'warning' },
  },
  {
    name: 'the autoscaler at its maximum: a warning',
    arrange: (w) => {
      w.hpas[0]!.status!.conditions!.push({ type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
      w.hpas[0]!.status!.conditions = w.hpas[0]!.status!.conditions!.filter((c) => !(c.type === 'ScalingLimited' && c.status === 'False'));
    },
    verdict: 'healthy',
    reasons: [],
    warnings: [/^the autoscaler is at its maximum of 11 game servers and wants more$/],
  },
  {
    name: 'a canary present but not ready: degraded (never down: the stable game servers serve)',
    arrange: (w) => {
      w.addGameServers('canary', 'game-mmo-server-canary', 1, '0.3.0', '7c9e4f2a1');
      const c = w.find(w.deployments, 'game-mmo-server-canary');
      c.status = { ...c.status, readyReplicas: 0, availableReplicas: 0 };
      const p = w.pods.find((x) => x.metadata!.name!.startsWith('game-mmo-server-canary-'))!;
      p.status!.conditions = [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [server]' }];
      p.status!.containerStatuses![0]!.ready = false;
      p.metadata!.creationTimestamp = new Date('2026-12-04T11:55:00Z');
      w.syncSlices();
    },
    verdict: 'degraded',
    reasons: [
      /^the canary is not ready: 0 of 1 pods of game-mmo-server-canary \(0\.3\.0\)$/,
      /^pod game-mmo-server-canary-7c9e4f2a1-qak0 has not been ready for 5m \(NotReady: containers with unready status: \[server\]\)$/,
    ],
    fix: /`mmoctl rollback` removes it/,
    components: { canary: 'degraded', 'game-server': 'ok' },
  },
  {
    name: 'a data service down: down, because game servers are not ready without it',
    arrange: (w) => {
      const sts = w.find(w.statefulSets, 'game-mmo-redis');
      sts.status = { ...sts.status!, readyReplicas: 0, availableReplicas: 0 };
      w.crashLoop(w.find(w.pods, 'game-mmo-redis-0'), 12);
      w.syncSlices();
    },
    verdict: 'down',
    reasons: [/^redis is down \(0 of 1 ready\): game servers are not ready without it$/, /^pod game-mmo-redis-0 is crash-looping \(12 restarts/],
    components: { redis: 'down', postgres: 'ok' },
  },
  {
    name: 'a forbidden read of events: healthy, with a warning on events and how to get the permission',
    tweak: (k) => k.forbidden.add('Event'),
    verdict: 'healthy',
    reasons: [],
    warnings: [/^cannot list Events: forbidden$/],
    fix: /mmoctl preflight` lists every permission/,
    components: { events: 'warning' },
  },
  {
    name: 'a forbidden read of Deployments: degraded, since nothing says the game servers are ready',
    tweak: (k) => k.forbidden.add('Deployment'),
    verdict: 'degraded',
    reasons: [/^cannot tell whether the game servers are ready: their Deployments could not be read$/],
    warnings: [/^cannot list Deployments: forbidden$/, /^cannot list Deployments: forbidden$/],
    components: { 'game-server': 'unknown', canary: 'warning' },
  },
  {
    name: 'nodes may not be read: zones unknown, a warning only',
    tweak: (k) => k.forbidden.add('Node'),
    verdict: 'healthy',
    reasons: [],
    warnings: [/^cannot read Node node-a: forbidden$/],
    components: { nodes: 'warning' },
  },
  {
    name: 'helm\'s record may not be read: workloads still judged, a warning on the release',
    tweak: (_k, h) => {
      h.failing.set('status', 'query: failed to query with labels: secrets is forbidden: User "tester" cannot list resource "secrets" in API group "" in the namespace "game"');
      h.failing.set('history', 'secrets is forbidden');
    },
    verdict: 'healthy',
    reasons: [],
    warnings: [/secrets is forbidden/],
    components: { release: 'warning' },
  },
  {
    name: 'the game server Deployment deleted by hand: down',
    arrange: (w) => w.removeFromCluster(w.deployments, 'game-mmo-server'),
    verdict: 'down',
    reasons: [/^the game server Deployment game-mmo-server is missing from the cluster: players cannot connect$/],
    fix: /mmoctl upgrade/,
  },
  {
    name: 'a rollout in progress: degraded until every game server runs the new template',
    arrange: (w) => {
      w.deployments[0]!.metadata!.generation = 4;
      w.deployments[0]!.status = { ...w.deployments[0]!.status, observedGeneration: 4, updatedReplicas: 1, replicas: 3 };
    },
    verdict: 'degraded',
    reasons: [/^a rollout has not finished: 1 of 2 game servers run the current pod template$/],
  },
  {
    name: 'a ready game server that restarted recently: healthy, with a warning',
    arrange: (w) => {
      const c = w.pods.find((p) => p.metadata!.name!.startsWith('game-mmo-server-'))!.status!.containerStatuses![0]!;
      c.restartCount = 1;
      c.lastState = { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date('2026-12-04T11:48:00Z') } };
    },
    verdict: 'healthy',
    reasons: [],
    warnings: [/^pod game-mmo-server-5d8f9c7b6-qak0 restarted \(1 restart, last exit OOMKilled \(code 137\) 12m ago\)$/],
  },
];

describe('mmoctl status verdict', () => {
  it.each(CASES)('$name', async (c) => {
    const w = new ReleaseWorld();
    c.arrange?.(w);
    const r = await report(w, c.tweak);
    const show = JSON.stringify({ reasons: r.reasons, warnings: r.warnings }, null, 1);
    expect(r.verdict, show).toBe(c.verdict);
    expect(statusExitCode(r)).toBe(c.verdict === 'healthy' ? EXIT.ok : EXIT.failed);
    expect(r.reasons.length, show).toBe(c.reasons.length);
    c.reasons.forEach((re, i) => expect(r.reasons[i]!.message, show).toMatch(re));
    if (c.warnings) {
      expect(r.warnings.length, show).toBe(c.warnings.length);
      c.warnings.forEach((re, i) => expect(r.warnings[i]!.message, show).toMatch(re));
    }
    if (c.fix) expect([...r.reasons, ...r.warnings].map((f) => f.fix ?? '').join('\n')).toMatch(c.fix);
    for (const [id, state] of Object.entries(c.components ?? {})) expect(r.components[id as ComponentId].state, `${id}: ${show}`).toBe(state);
  });

  it('reports a release that does not exist as such (exit 3), not as a picture', async () => {
    const w = new ReleaseWorld();
    w.release = undefined;
    const err = await report(w).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseNotFound);
    expect((err as ReleaseNotFound).exitCode).toBe(EXIT.failed);
    expect((err as Error).message).toBe('release "game" not found in namespace "game".');
  });

  it('ends with the connection error when the API server cannot be reached, instead of a screen of failed reads', async () => {
    const err = await report(new ReleaseWorld(), (k) => (k.unreachable = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).unreachable).toBe(true);
  });

  it('shows players as unknown with the reason, never a guessed number', async () => {
    const r = await report(new ReleaseWorld());
    expect(r.gameServers.pods.map((p) => [p.players, p.playersSource])).toEqual([[null, 'unavailable'], [null, 'unavailable']]);
    expect(r.gameServers.tracks).toEqual([expect.objectContaining({ track: 'stable', pods: 2, ready: 2, players: null, playersSource: 'unavailable' })]);
    expect(r.gameServers.players.note).toMatch(/game_server_active_players/);
  });

  it('asks helm for the history only when the release is not deployed, to name the revision a rollback returns to', async () => {
    const w = new ReleaseWorld();
    const deployed = await report(w, (_k, h) => h.failing.set('history', 'history must not be read'));
    expect(deployed.release).toMatchObject({ chart: 'mmo-0.2.0', appVersion: '0.2.0', revision: 3, status: 'deployed', lastDeployed: null });
    expect(deployed.warnings).toEqual([]);
    w.release = { ...w.release!, revision: 4, status: 'failed' };
    w.history.push({ revision: 4, updated: w.release.updated, status: 'failed', chart: 'mmo-0.3.0', appVersion: '0.3.0', description: 'Upgrade "game" failed' });
    expect((await report(w)).release?.lastDeployed).toBe(3);
  });

  it('reads each zone from the node a game server runs on, and the autoscaler\'s metrics with their current values', async () => {
    const r = await report(new ReleaseWorld());
    expect(r.gameServers.pods.map((p) => [p.node, p.zone])).toEqual([['node-a', 'zone-a'], ['node-b', 'zone-b']]);
    expect(r.autoscaler).toMatchObject({ current: 2, desired: 2, min: 2, max: 11, unknownReason: null });
    expect(r.autoscaler!.metrics).toEqual([
      { name: 'cpu', type: 'Resource', target: '70%', current: '35%' },
      { name: 'game_server_active_players', type: 'Pods', target: '800', current: '412' },
    ]);
  });

  it('keeps to the release\'s own recent warning events', async () => {
    const w = new ReleaseWorld();
    w.event('Pod', 'game-mmo-server-5d8f9c7b6-qak0', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 3, 4);
    w.event('ReplicaSet', 'game-mmo-server-5d8f9c7b6', 'FailedCreate', 'pods "game-mmo-server-5d8f9c7b6-zz" is forbidden: exceeded quota', 9);
    const r = await report(w);
    expect(r.events.map((e) => `${e.object} ${e.reason} ×${e.count}`)).toEqual(['Pod/game-mmo-server-5d8f9c7b6-qak0 Unhealthy ×4', 'ReplicaSet/game-mmo-server-5d8f9c7b6 FailedCreate ×1']);
  });

  it('tells an external data service from a bundled one', async () => {
    const w = new ReleaseWorld();
    w.statefulSets = w.statefulSets.filter((s) => s.metadata!.name !== 'game-mmo-postgres');
    w.pods = w.pods.filter((p) => p.metadata!.name !== 'game-mmo-postgres-0');
    w.pvcs = w.pvcs.filter((p) => p.metadata!.name !== 'data-game-mmo-postgres-0');
    w.services = w.services.filter((s) => !s.metadata!.name!.startsWith('game-mmo-postgres'));
    w.values = { ...w.values, postgres: { enabled: false, external: { host: 'db.example.internal' } } };
    w.release = { ...w.release!, config: w.values };
    const r = await report(w);
    expect(r.verdict).toBe('healthy');
    expect(r.dataServices.find((s) => s.name === 'postgres')).toEqual({ name: 'postgres', mode: 'external', workload: null, desired: 0, ready: 0, host: 'db.example.internal' });
    expect(r.components.postgres.state).toBe('absent');
  });

  it('reads everything at once, and each kind once', async () => {
    const w = new ReleaseWorld();
    const kube = w.kube();
    await collectStatus(REF, { kube: async () => kube, helm: async () => w.helm(), now: () => NOW });
    const lists = kube.calls.filter((c) => c.startsWith('list '));
    expect(new Set(lists).size).toBe(lists.length);
    expect(lists.sort()).toEqual(
      ['Deployment', 'EndpointSlice', 'Event', 'HorizontalPodAutoscaler', 'PersistentVolumeClaim', 'Pod', 'PodDisruptionBudget', 'Service', 'StatefulSet'].map((k) => `list ${k}`),
    );
  });
});
