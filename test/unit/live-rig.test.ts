// The pure parts of the live rig: its network plan and the check that it hides nothing the machine
// uses, ServiceMonitor → scrape configuration and the endpoint discovery it runs on, and how a
// container's command line, environment and mounts are assembled.
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import { expandReferences, resolveContainerEnv } from '../../scripts/rig/live/env.ts';
import { checkoutImage, containerArgv, parseDockerfile } from '../../scripts/rig/live/image.ts';
import { tailLines } from '../../scripts/rig/live/logs.ts';
import { checkPlan, expectedRouting, planNetwork, type MachineNetwork } from '../../scripts/rig/live/network.ts';
import { probeTiming, resolvePort } from '../../scripts/rig/live/probes.ts';
import { endpointsTargets, prometheusConfig, scrapeConfigs, ServiceMonitorError, type DiscoveryObjects } from '../../scripts/rig/live/servicemonitor.ts';
import { mountScript, VolumeError } from '../../scripts/rig/live/volumes.ts';

/** This machine as it was checked: resolver and gateway in private and documentation ranges. */
const machine: MachineNetwork = {
  resolvers: ['10.255.255.53'],
  routes: [
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel' },
  ],
  addresses: [{ dev: 'lo', cidr: '127.0.0.1/8' }, { dev: 'eth0', cidr: '192.0.2.2/24' }],
};

describe('the live rig\'s network plan', () => {
  it('gives each slot its own bridge, pod range and node addresses, and blackholes what nothing answers', () => {
    const p = planNetwork(3);
    expect(p).toMatchObject({ bridge: 'mmo-rig3', podCidr: '10.245.3.0/24', hostAddress: '10.245.3.1', podRange: { start: '10.245.3.2', end: '10.245.3.254' }, metric: 1003 });
    expect(p.nodes.map((n) => `${n.internalIP} ${n.externalIP}`)).toEqual(['10.0.3.11 203.0.113.59', '10.0.3.12 203.0.113.60', '10.0.3.13 203.0.113.61']);
    expect(p.blackholes.map((b) => b.cidr)).toEqual(['10.244.0.0/22', '10.96.0.0/16', '198.51.100.0/24']);
    expect(() => planNetwork(15)).toThrow(/slot 15 is not one of 0–14/);
  });

  it('is safe on this machine', () => {
    expect(checkPlan(planNetwork(0), machine)).toEqual([]);
  });

  it('refuses a plan holding the resolver, a gateway or an address of the machine, or overlapping its routes', () => {
    const p = planNetwork(0);
    expect(checkPlan(p, { ...machine, resolvers: ['10.244.1.53'] })).toEqual([expect.stringMatching(/^10\.244\.0\.0\/22 \(blackhole for kwok's pod addresses.*\) holds 10\.244\.1\.53, the machine's resolver/)]);
    expect(checkPlan(p, { ...machine, routes: [{ dst: 'default', gateway: '10.96.0.1', dev: 'eth0' }] })).toEqual([expect.stringMatching(/^10\.96\.0\.0\/16 .* holds 10\.96\.0\.1, the machine's gateway/)]);
    expect(checkPlan(p, { ...machine, addresses: [...machine.addresses, { dev: 'eth1', cidr: '203.0.113.12/24' }] })).toEqual([expect.stringMatching(/^203\.0\.113\.12\/32 \(rig-node-b's ExternalIP on mmo-rig0\) holds 203\.0\.113\.12, an address of eth1/)]);
    expect(checkPlan(p, { ...machine, routes: [...machine.routes, { dst: '10.245.0.0/16', gateway: '192.0.2.9', dev: 'eth0' }] })).toEqual([
      "10.245.0.0/24 (process pod range on mmo-rig0) overlaps the machine's route 10.245.0.0/16 via 192.0.2.9 dev eth0",
    ]);
    // Routes of live rigs (their bridges, their tagged blackholes) are not the machine's.
    expect(checkPlan(p, { ...machine, routes: [...machine.routes, { dst: '10.245.1.0/24', dev: 'mmo-rig1' }, { dst: '10.244.0.0/22', type: 'blackhole', protocol: '109', metric: 1001 }] })).toEqual([]);
  });

  it('knows where each range must go once applied', () => {
    const want = expectedRouting(planNetwork(0)).map((e) => `${e.address} ${e.want}`);
    expect(want).toEqual(expect.arrayContaining(['10.245.0.2 bridge', '10.245.0.254 bridge', '10.0.0.11 local', '203.0.113.13 local', '10.244.0.1 blackhole', '10.244.3.254 blackhole', '198.51.100.254 blackhole']));
  });
});

const chartMonitor = {
  metadata: { name: 'game-mmo-server', namespace: 'live' },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/instance': 'game', 'app.kubernetes.io/component': 'game-server' } },
    endpoints: [{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }],
    podTargetLabels: ['mmo.dev/track', 'app.kubernetes.io/version'],
  },
};
const discovery = { targetsDir: '/state/prometheus/targets' };

describe('ServiceMonitor → Prometheus scrape configuration', () => {
  it('keeps the selected Services\' named port and labels targets as the operator does', () => {
    const [{ job, namespaces }] = scrapeConfigs(chartMonitor, discovery) as [ReturnType<typeof scrapeConfigs>[number]];
    expect(namespaces).toEqual(['live']);
    expect(job).toMatchObject({ job_name: 'serviceMonitor/live/game-mmo-server/0', scrape_interval: '15s', scrape_timeout: '10s', metrics_path: '/metrics', file_sd_configs: [{ files: ['/state/prometheus/targets/serviceMonitor_live_game-mmo-server_0.json'] }] });
    const relabel = job.relabel_configs as Record<string, unknown>[];
    expect(relabel).toEqual(expect.arrayContaining([
      { action: 'keep', source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_component', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_component'], regex: '(game-server);true' },
      { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: 'metrics' },
      { source_labels: ['__meta_kubernetes_pod_label_mmo_dev_track'], target_label: 'mmo_dev_track', regex: '(.+)', replacement: '${1}' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    ]));
  });

  it('refuses one that would not work under the operator, with every reason, and keeps the others', () => {
    const broken = { metadata: { name: 'broken', namespace: 'live' }, spec: { selector: {}, endpoints: [{ port: 'metrics', interval: '5s', scrapeTimeout: '10s', honorLabelz: true, relabelings: [{ action: 'replace', sourceLabels: ['pod'], regex: '(' }] }] } };
    expect(() => scrapeConfigs(broken, discovery)).toThrow(ServiceMonitorError);
    const { outcomes, config } = prometheusConfig([chartMonitor, broken], discovery);
    expect(outcomes.find((o) => o.name === 'broken')).toMatchObject({ accepted: false, reasons: expect.arrayContaining([
      'spec.endpoints[0].honorLabelz is a field the rig does not translate',
      'spec.endpoints[0].scrapeTimeout 10s is longer than its interval 5s (Prometheus refuses that)',
      expect.stringMatching(/^spec\.endpoints\[0\]\.relabelings\[0\]\.regex "\(" does not compile/),
      'spec.endpoints[0].relabelings[0]: action replace needs a targetLabel',
    ]) });
    expect((config.scrape_configs as unknown[]).length).toBe(1);
  });
});

describe('endpoint discovery (Prometheus\' role: endpoints)', () => {
  const objects: DiscoveryObjects = {
    endpoints: [
      { metadata: { name: 'game-mmo-server', namespace: 'live', labels: { app: 'x' } }, subsets: [{ addresses: [{ ip: '10.245.0.2', nodeName: 'rig-node-a', targetRef: { kind: 'Pod', name: 'p1' } }], notReadyAddresses: [{ ip: '10.245.0.3', targetRef: { kind: 'Pod', name: 'p2' } }], ports: [{ name: 'metrics', port: 9090 }] }] },
      { metadata: { name: 'other', namespace: 'elsewhere' }, subsets: [{ addresses: [{ ip: '10.245.0.9' }], ports: [{ name: 'metrics', port: 9090 }] }] },
    ],
    services: [{ metadata: { name: 'game-mmo-server', namespace: 'live', labels: { 'app.kubernetes.io/component': 'game-server' } } }],
    pods: [{ metadata: { name: 'p1', namespace: 'live', uid: 'u1', labels: { 'mmo.dev/track': 'stable' } }, spec: { nodeName: 'rig-node-a', containers: [{ name: 'server', ports: [{ name: 'metrics', containerPort: 9090 }] }] }, status: { phase: 'Running', podIP: '10.245.0.2', conditions: [{ type: 'Ready', status: 'True' }] } }],
  };

  it('gives one target per address and port, ready or not, with the Service\'s and the pod\'s labels', () => {
    const groups = endpointsTargets(objects, ['live']);
    expect(groups.map((g) => `${g.targets[0]} ${g.labels.__meta_kubernetes_endpoint_ready}`)).toEqual(['10.245.0.2:9090 true', '10.245.0.3:9090 false']);
    expect(groups[0]!.labels).toMatchObject({
      __meta_kubernetes_namespace: 'live',
      __meta_kubernetes_service_name: 'game-mmo-server',
      __meta_kubernetes_service_label_app_kubernetes_io_component: 'game-server',
      __meta_kubernetes_service_labelpresent_app_kubernetes_io_component: 'true',
      __meta_kubernetes_endpoint_port_name: 'metrics',
      __meta_kubernetes_endpoint_address_target_kind: 'Pod',
      __meta_kubernetes_endpoint_address_target_name: 'p1',
      __meta_kubernetes_pod_name: 'p1',
      __meta_kubernetes_pod_label_mmo_dev_track: 'stable',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_container_name: 'server',
      __meta_kubernetes_pod_container_port_name: 'metrics',
    });
    expect(endpointsTargets(objects, undefined)).toHaveLength(3);
  });
});

describe('a container as the live kubelet starts it', () => {
  it('runs the image of server/Dockerfile, command replacing ENTRYPOINT and args replacing CMD', () => {
    const image = checkoutImage(PROJECT_ROOT);
    expect(containerArgv(image, undefined, undefined)).toEqual(['node', 'server/src/main.ts']);
    expect(containerArgv(image, undefined, ['server/src/migrate.ts', '--wait'])).toEqual(['node', 'server/src/migrate.ts', '--wait']);
    expect(containerArgv(image, ['sh', '-c'], ['true'])).toEqual(['sh', '-c', 'true']);
    expect(image.env.PATH).toMatch(/node_modules\/\.bin:/);
    expect(parseDockerfile('FROM a AS b\nENV X=1\nFROM c\nENV Y="two words" \\\n  Z=3\nCMD ["x"]')).toEqual({ env: { Y: 'two words', Z: '3' }, entrypoint: [], cmd: ['x'] });
  });

  it('assembles the environment as the kubelet does: envFrom with prefixes, then env with $(VAR) references', () => {
    const env = resolveContainerEnv(
      { name: 'c', envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cm' } }], env: [{ name: 'A', value: '$(CM_K)-$(MISSING)-$$(CM_K)' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
      (kind, name) => (kind === 'ConfigMap' && name === 'cm' ? { K: 'v' } : undefined),
      { 'metadata.name': 'p' },
    );
    expect(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.value]))).toEqual({ CM_K: 'v', A: 'v-$(MISSING)-$(CM_K)', POD: 'p' });
    expect(expandReferences('$(A)$$', { A: 'x' })).toBe('x$');
  });

  it('mounts volumes at their paths in a mount namespace of its own, refusing what it cannot make', () => {
    const script = mountScript([{ name: 'tmp', mountPath: '/tmp/x' }, { name: 'tok', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }], new Map([['tmp', '/s/tmp'], ['tok', '/s/tok']]), () => false);
    expect(script.split('\n')).toEqual([
      'set -e',
      'mount -t tmpfs -o mode=755,size=16m rig-run /run',
      "mkdir -p '/tmp/x'",
      "mount --bind '/s/tmp' '/tmp/x'",
      "mkdir -p '/run/secrets/kubernetes.io/serviceaccount'",
      "mount --bind '/s/tok' '/run/secrets/kubernetes.io/serviceaccount'",
      "mount -o remount,bind,ro '/run/secrets/kubernetes.io/serviceaccount'",
      'exec "$@"',
    ]);
    // A checkout under /tmp stays where it is when an emptyDir is mounted at /tmp (its pod directories with it).
    const under = mountScript([{ name: 'tmp', mountPath: '/tmp' }], new Map([['tmp', '/tmp/co/.tmp/pods/p/tmp']]), () => true, ['/tmp/co', '/tmp/co/.tmp/pods']);
    expect(under.split('\n')).toEqual([
      'set -e',
      'mount -t tmpfs -o mode=755,size=16m rig-run /run',
      'mkdir -p /run/rig-keep/0',
      "mount --bind '/tmp/co' /run/rig-keep/0",
      "mount --bind '/tmp/co/.tmp/pods/p/tmp' '/tmp'",
      "mkdir -p '/tmp/co'",
      "mount --bind /run/rig-keep/0 '/tmp/co'",
      'exec "$@"',
    ]);
    expect(() => mountScript([{ name: 'tmp', mountPath: '/data', subPath: 'a' }], new Map([['tmp', '/s']]), () => true)).toThrow(VolumeError);
    expect(() => mountScript([{ name: 'tmp', mountPath: '/nowhere' }], new Map([['tmp', '/s']]), () => false)).toThrow(/paths that exist on this machine or under \/run and \/tmp/);
  });

  it('probes with Kubernetes\' defaults and named ports; logs tail by lines', () => {
    expect(probeTiming({})).toEqual({ initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
    expect(resolvePort('health', { name: 'c', ports: [{ name: 'health', containerPort: 8081 }] })).toBe(8081);
    expect(resolvePort('nope', { name: 'c' })).toBeUndefined();
    expect(tailLines('a\nb\nc\n', 2)).toBe('b\nc\n');
  });
});
