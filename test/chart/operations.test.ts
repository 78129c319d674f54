// The operations switches as an operator would check them: KEDA takes over from the HPA with the same
// behaviour, VPA only recommends unless told otherwise, the mesh leaves UDP alone, a region labels its
// series and prefers its nodes, and the cost per player-hour is recorded under the contract's names.
// Every object here is also validated strictly (unknown fields refused) by rendered.test.ts.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { COMPONENTS, LABELS } from '../../contract/labels.ts';
import { METRICS, RECORDED } from '../../contract/metrics.ts';
import { PATHS, PORTS } from '../../contract/ports.ts';
import { find, podSpecs, render, type RenderOptions } from '../support/chart.ts';
import { manifestProblems, type Manifest } from '../support/k8s-strict.ts';

const helm4 = () => inject('helmPaths')[4];
const get = (o: unknown, path: string): any => path.split('.').reduce((x: any, k) => x?.[k], o);
const kinds = (ms: Manifest[]) => ms.map((m) => m.kind);
const EVENING_PEAK = { timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: 10 };
const keda = (extra: object = {}) => ({ gameServer: { autoscaling: { keda: { enabled: true, cron: [EVENING_PEAK], ...extra } } } });
const renderWith = (...values: object[]): Promise<Manifest[]> => render(helm4(), { values } satisfies RenderOptions);

describe('KEDA scales the game servers in place of the HPA', () => {
  let ms: Manifest[];
  let hpa: Manifest[];
  beforeAll(async () => {
    [ms, hpa] = await Promise.all([
      renderWith(keda({ prometheus: { enabled: true, serverAddress: 'http://prometheus-operated.monitoring.svc:9090' }, rabbitmq: { enabled: true, queueName: 'matchmaking', queueLength: 40 } }), { capacity: { playersPerPod: 500, scaleAtPercent: 80 } }),
      renderWith({ gameServer: { autoscaling: { enabled: true } } }),
    ]);
  });

  it('creates a ScaledObject for the stable Deployment and no HorizontalPodAutoscaler of its own', () => {
    expect(kinds(ms)).not.toContain('HorizontalPodAutoscaler');
    const so = find(ms, 'ScaledObject', 'game-mmo-server');
    expect(get(so, 'spec.scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'game-mmo-server' });
    expect([get(so, 'spec.minReplicaCount'), get(so, 'spec.maxReplicaCount')]).toEqual([2, 10]);
    // KEDA's HPA is named like the chart's, which mmoctl status reads.
    expect(get(so, 'spec.advanced.horizontalPodAutoscalerConfig.name')).toBe('game-mmo-server');
  });

  it("scales down as the HPA would: after 5 minutes, by at most 50 % or 2 pods a minute, whichever is fewer", () => {
    const behavior = get(find(ms, 'ScaledObject', 'game-mmo-server'), 'spec.advanced.horizontalPodAutoscalerConfig.behavior');
    expect(behavior).toEqual(get(find(hpa, 'HorizontalPodAutoscaler', 'game-mmo-server'), 'spec.behavior'));
    expect(behavior.scaleDown).toEqual({ stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }, { type: 'Pods', value: 2, periodSeconds: 60 }] });
  });

  it('holds the evening peak with a cron trigger in its time zone', () => {
    const cron = get(find(ms, 'ScaledObject', 'game-mmo-server'), 'spec.triggers').find((t: any) => t.type === 'cron');
    expect(cron.metadata).toEqual({ timezone: 'Asia/Seoul', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: '10' });
  });

  it("scales on players per stable pod of this release, at the HPA's players-per-pod target", () => {
    const prom = get(find(ms, 'ScaledObject', 'game-mmo-server'), 'spec.triggers').find((t: any) => t.type === 'prometheus');
    expect(prom.metadata.threshold).toBe('400');
    expect(prom.metadata.query).toBe(`sum(${METRICS.activePlayers.name}{namespace="mmo", job="game-mmo-server-internal", pod=~"game-mmo-server-[a-z0-9]+-[a-z0-9]+"})`);
    // PromQL anchors regexes: the canary's pods (game-mmo-server-canary-<hash>-<id>) do not match.
    const stable = new RegExp('^game-mmo-server-[a-z0-9]+-[a-z0-9]+$');
    expect(stable.test('game-mmo-server-5d8f9c7b6-x2x4z')).toBe(true);
    expect(stable.test('game-mmo-server-canary-5d8f9c7b6-x2x4z')).toBe(false);
  });

  it("reads the queue's broker from the Secret the game servers connect with, and lets KEDA's operator reach it", () => {
    const queue = get(find(ms, 'ScaledObject', 'game-mmo-server'), 'spec.triggers').find((t: any) => t.type === 'rabbitmq');
    expect(queue.metadata).toEqual({ protocol: 'amqp', mode: 'QueueLength', queueName: 'matchmaking', value: '40' });
    const auth = find(ms, 'TriggerAuthentication', queue.authenticationRef.name);
    const server = podSpecs(ms).find((p) => p.owner.metadata.name === 'game-mmo-server')!.spec.containers.find((c) => c.name === 'server')!;
    const amqp = server.env!.find((e) => e.name === ENV.amqpUrl.name)!;
    expect(get(auth, 'spec.secretTargetRef')).toEqual([{ parameter: 'host', ...get(amqp, 'valueFrom.secretKeyRef') }]);
    const policy = find(ms, 'NetworkPolicy', 'game-mmo-rabbitmq');
    expect(JSON.stringify(get(policy, 'spec.ingress'))).toContain('"kubernetes.io/metadata.name":"keda"');
  });

  it('keeps the Deployment sized while KEDA owns the count, and leaves replicas out for GitOps', async () => {
    expect(get(find(ms, 'Deployment', 'game-mmo-server'), 'spec.replicas')).toBe(2);
    const gitops = await renderWith(keda(), { gameServer: { autoscaling: { setReplicas: false }, auth: { existingSecret: 'a' }, admin: { existingSecret: 'b' } }, postgres: { auth: { existingSecret: 'p' } }, redis: { auth: { existingSecret: 'r' } }, rabbitmq: { auth: { existingSecret: 'q' } } });
    expect(get(find(gitops, 'Deployment', 'game-mmo-server'), 'spec')).not.toHaveProperty('replicas');
  });
});

describe('VPA', () => {
  it('recommends only (updateMode Off) for the game servers and each bundled data store, on their main container', async () => {
    const ms = await renderWith({ vpa: { enabled: true } }, { redis: { enabled: false, external: { host: 'cache.example.com', existingSecret: 'r' } } });
    const vpas = ms.filter((m) => m.kind === 'VerticalPodAutoscaler');
    expect(vpas.map((v) => `${get(v, 'spec.targetRef.kind')}/${get(v, 'spec.targetRef.name')}`)).toEqual(['Deployment/game-mmo-server', 'StatefulSet/game-mmo-postgres', 'StatefulSet/game-mmo-rabbitmq']);
    for (const v of vpas) {
      expect(get(v, 'spec.updatePolicy.updateMode')).toBe('Off');
      const [main, rest] = get(v, 'spec.resourcePolicy.containerPolicies');
      const pod = podSpecs(ms).find((p) => p.owner.metadata.name === get(v, 'spec.targetRef.name'))!;
      expect(main.containerName).toBe(pod.spec.containers[0]!.name);
      expect(rest).toEqual({ containerName: '*', mode: 'Off' });
    }
  });

  it('renders nothing when off', async () => {
    expect(kinds(await renderWith({}))).not.toContain('VerticalPodAutoscaler');
  });
});

describe('the Istio mesh', () => {
  let ms: Manifest[];
  beforeAll(async () => {
    ms = await renderWith({ mesh: { istio: { enabled: true, canaryWeight: 10 } }, canary: { enabled: true, image: { tag: '0.2.0' } }, backup: { pgDump: { enabled: true } } });
  });

  it('injects a native sidecar into every pod of the release, the backup CronJob\'s included', () => {
    expect(podSpecs(ms).map((p) => p.owner.kind)).toContain('CronJob');
    for (const { owner, labels } of podSpecs(ms)) {
      expect(labels['sidecar.istio.io/inject'], owner.metadata.name).toBe('true');
      const template = owner.kind === 'CronJob' ? 'spec.jobTemplate.spec.template' : 'spec.template';
      const annotations = owner.kind === 'Pod' ? owner.metadata.annotations : get(owner, `${template}.metadata.annotations`);
      expect(annotations?.['sidecar.istio.io/nativeSidecar'], owner.metadata.name).toBe('true');
    }
  });

  it('keeps the UDP port out of interception on both tracks: UDP never goes through the mesh', () => {
    const servers = podSpecs(ms).filter((p) => p.labels[LABELS.component] === COMPONENTS.gameServer);
    expect(servers).toHaveLength(2);
    for (const { owner, spec } of servers) {
      const udp = spec.containers[0]!.ports!.find((p) => p.protocol === 'UDP')!.containerPort;
      const annotations = get(owner, 'spec.template.metadata.annotations');
      expect(annotations['traffic.sidecar.istio.io/excludeInboundPorts']).toBe(String(udp));
      expect(annotations['traffic.sidecar.istio.io/excludeOutboundPorts']).toBe(String(udp));
    }
  });

  it('requires mutual TLS between the workloads, except on the ports peers outside the mesh reach', () => {
    const pa = find(ms, 'PeerAuthentication', 'game-mmo-game-server');
    expect(get(pa, 'spec.mtls.mode')).toBe('STRICT');
    expect(Object.keys(get(pa, 'spec.portLevelMtls')).sort()).toEqual([String(PORTS.game), String(PORTS.metrics)].sort());
    for (const store of ['postgres', 'redis', 'rabbitmq']) {
      const p = find(ms, 'PeerAuthentication', `game-mmo-${store}`);
      expect(get(p, 'spec.mtls.mode')).toBe('STRICT');
      expect(get(p, 'spec')).not.toHaveProperty('portLevelMtls');
    }
  });

  it('splits new WebSocket connections by weight and keeps signaling on one pod per player', () => {
    const vs = find(ms, 'VirtualService', 'game-mmo-server');
    const [ws, signaling] = get(vs, 'spec.http');
    expect(ws.match).toEqual([{ uri: { prefix: PATHS.websocket } }]);
    expect(ws.route.map((r: any) => [r.destination.subset, r.weight])).toEqual([['stable', 90], ['canary', 10]]);
    expect(signaling.route).toEqual([{ destination: { host: 'game-mmo-server' } }]);
    const dr = find(ms, 'DestinationRule', 'game-mmo-server');
    expect(get(dr, 'spec.trafficPolicy.loadBalancer.consistentHash')).toEqual({ useSourceIp: true });
    expect(get(dr, 'spec.subsets').map((s: any) => s.labels[LABELS.track])).toEqual(['stable', 'canary']);
  });

  it("lets every pod reach istiod, and leaves the weights to the replica ratio without canaryWeight", async () => {
    expect(JSON.stringify(get(find(ms, 'NetworkPolicy', 'game-mmo-mesh'), 'spec.egress'))).toContain('"port":15012');
    const plain = await renderWith({ mesh: { istio: { enabled: true } }, canary: { enabled: true, image: { tag: '0.2.0' } } });
    expect(kinds(plain)).not.toContain('VirtualService');
  });
});

describe('one release per region', () => {
  it('labels every scraped series with the region and prefers nodes of the region for every pod', async () => {
    const ms = await renderWith({ region: { name: 'eu-west-1' }, monitoring: { serviceMonitor: { enabled: true } }, redis: { metrics: { enabled: true, serviceMonitor: { enabled: true } } }, backup: { pgDump: { enabled: true } } });
    for (const sm of ms.filter((m) => m.kind === 'ServiceMonitor')) {
      expect(get(sm, 'spec.endpoints.0.relabelings'), sm.metadata.name).toContainEqual({ targetLabel: 'region', replacement: 'eu-west-1' });
    }
    const term = { weight: 100, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/region', operator: 'In', values: ['eu-west-1'] }] } };
    for (const { owner, spec } of podSpecs(ms)) expect(get(spec, 'affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution'), owner.metadata.name).toContainEqual(term);
  });
});

describe('cost per player-hour', () => {
  it("records the game servers' requested cost and its ratio to players under the contract's names, and alerts above the budget", async () => {
    const ms = await renderWith({ monitoring: { prometheusRule: { enabled: true } }, region: { name: 'ap-northeast-2' }, cost: { enabled: true, cpuHourPrice: 0.05, gibHourPrice: 0.006, budgetPerPlayerHour: 0.02, budgetFor: '15m' } });
    const groups = get(find(ms, 'PrometheusRule', 'game-mmo-server'), 'spec.groups');
    const rules = groups.find((g: any) => g.name === 'game-mmo.cost').rules;
    const [cost, ratio, alert] = rules;
    expect(cost.record).toBe(RECORDED.requestedCostPerHour);
    expect(cost.expr).toContain('resource="cpu"}) * 0.05');
    expect(cost.expr).toContain('/ 1073741824 * 0.006');
    expect(cost.expr).toContain('pod=~"game-mmo-server-.*"');
    expect(ratio.record).toBe(RECORDED.costPerPlayerHour);
    expect(ratio.expr).toContain(`sum by (namespace) (${METRICS.activePlayers.name}{namespace="mmo", job="game-mmo-server-internal"}) > 0`);
    for (const r of [cost, ratio]) expect(r.labels).toEqual({ region: 'ap-northeast-2' });
    expect(alert).toMatchObject({ alert: 'GameCostPerPlayerHourHigh', expr: `${RECORDED.costPerPlayerHour}{namespace="mmo"} > 0.02`, for: '15m' });
  });

  it('adds no cost rules when off, and no alert with a budget of 0', async () => {
    const off = await renderWith({ monitoring: { prometheusRule: { enabled: true } } });
    expect(JSON.stringify(find(off, 'PrometheusRule', 'game-mmo-server'))).not.toContain('cost');
    const noAlert = await renderWith({ monitoring: { prometheusRule: { enabled: true } }, cost: { enabled: true, budgetPerPlayerHour: 0 } });
    expect(JSON.stringify(find(noAlert, 'PrometheusRule', 'game-mmo-server'))).not.toContain('GameCostPerPlayerHourHigh');
  });
});

describe("the strict check of other projects' kinds", () => {
  it('refuses an unknown or misplaced field, a wrong type and a value outside an enum, in each kind', async () => {
    const ms = await renderWith(keda({ rabbitmq: { enabled: true, queueName: 'q' } }), { vpa: { enabled: true }, mesh: { istio: { enabled: true, canaryWeight: 5 } }, canary: { enabled: true, image: { tag: '0.2.0' } } });
    const spoil: Record<string, (m: any) => void> = {
      ScaledObject: (m) => (m.spec.pollingIntervall = 30),
      TriggerAuthentication: (m) => (m.spec.secretTargetRef[0].secret = 'x'),
      VerticalPodAutoscaler: (m) => (m.spec.updatePolicy.updateMode = 'Always'),
      PeerAuthentication: (m) => (m.spec.mtls = 'STRICT'),
      DestinationRule: (m) => (m.spec.trafficPolicy.loadBalancer.consistentHash.useSourceIP = true),
      VirtualService: (m) => (m.spec.http[0].route[0].weight = '90'),
    };
    for (const [kind, change] of Object.entries(spoil)) {
      const m = structuredClone(ms.find((x) => x.kind === kind)!);
      expect(await manifestProblems(m), kind).toEqual([]);
      change(m);
      expect((await manifestProblems(m)).length, kind).toBeGreaterThan(0);
    }
  });
});
