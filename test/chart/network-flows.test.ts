// Which connections the chart's NetworkPolicies let through, flow by flow, as the API's rules decide
// (test/support/netpol.ts): the rig stores policies without enforcing them, so this is where a rule
// that opens too much, or too little, shows. Endpoints are the rendered pods themselves (their labels
// and named ports) plus addresses outside the cluster.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { COMPONENTS, LABELS } from '../../contract/labels.ts';
import { PORTS } from '../../contract/ports.ts';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { parseOptions } from '../../client/loadtest/options.ts';
import { find, podSpecs, testPodCommand } from '../support/chart.ts';
import type { Manifest } from '../support/k8s-strict.ts';
import { allows, type Endpoint, type IpEndpoint, type PodEndpoint, type Protocol } from '../support/netpol.ts';
import { deliveredTo, keepsFlowing, type ServedPod } from '../support/service-routing.ts';
import { resolveContainerEnv, type ObjectData } from '../../scripts/rig/live/env.ts';
import { CASES, mergedValues, renderCases, valueFiles, type ValuesCase } from './cases.ts';
import { userSecrets } from './env-wiring.ts';

const NS = 'mmo';
const majors: HelmMajor[] = [3, 4];
const FLOW_CASES = ['chart defaults', 'preset production', 'external services', 'external services on production', 'backups: pg_dump to a volume and a Velero Schedule', 'backups of an external PostgreSQL to an existing claim'];
const UDP_CASES = CASES.filter((c) => c.name === 'chart defaults' || c.name.startsWith('udp ')).map((c) => c.name);
const cases = CASES.filter((c) => FLOW_CASES.includes(c.name) || UDP_CASES.includes(c.name));
let rendered = new Map<string, Manifest[]>();
let defaults: object;
let presets: Record<string, object> = {};

beforeAll(async () => {
  ({ defaults, presets } = await valueFiles());
  rendered = await renderCases(inject('helmPaths'), majors, cases, { namespace: NS });
}, 120_000);

const ip = (name: string, address: string): IpEndpoint => ({ kind: 'ip', name, ip: address });
const PLAYER = ip('a player', '203.0.113.50');
const INTERNET = ip('an internet host', '198.51.100.7');
const DNS = ip('the cluster DNS', '10.96.0.10');
const API_SERVER = ip('the API server', '10.96.0.1');

/** The rendered pod of one component (the stable track for game servers), as a flow endpoint. */
function podOf(manifests: readonly Manifest[], component: string): PodEndpoint {
  const found = podSpecs(manifests).find((p) => p.labels[LABELS.component] === component && (component !== COMPONENTS.gameServer || p.labels[LABELS.track] === 'stable'));
  if (!found) throw new Error(`no ${component} pod rendered`);
  return {
    kind: 'pod',
    name: component,
    namespace: NS,
    namespaceLabels: { 'kubernetes.io/metadata.name': NS },
    labels: found.labels,
    ports: [...(found.spec.initContainers ?? []), ...found.spec.containers].flatMap((c) => c.ports ?? []),
  };
}

/** An address inside `cidr` (IPv4), away from the ones the flows use for other parties. */
function addressIn(cidr: string): string {
  if (cidr === '0.0.0.0/0') return '192.0.2.20';
  const [base] = cidr.split('/');
  const octets = base!.split('.').map(Number);
  octets[3] = octets[3]! + 20;
  return octets.join('.');
}

/** The UDP port the game server binds: MMO_UDP_PORT as its container resolves it. */
function boundUdpPort(manifests: readonly Manifest[], c: ValuesCase): number | undefined {
  const users = userSecrets(mergedValues(defaults, presets, c));
  const data: ObjectData = (kind, name) => {
    const m = manifests.find((x) => x.kind === kind && x.metadata.name === name) as { data?: Record<string, string> } | undefined;
    if (!m) return kind === 'Secret' ? users[name] : undefined;
    return kind === 'Secret' ? Object.fromEntries(Object.entries(m.data ?? {}).map(([k, b]) => [k, Buffer.from(b, 'base64').toString()])) : (m.data ?? {});
  };
  const game = podSpecs(manifests).find((p) => p.labels[LABELS.component] === COMPONENTS.gameServer)!;
  const env = resolveContainerEnv(game.spec.containers.find((x) => x.name === 'server')!, data, { 'metadata.name': 'game-mmo-server-0' });
  const v = env[ENV.udpPort.name]?.value;
  return v === undefined ? undefined : Number(v);
}

interface Flow {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: Protocol;
  allowed: boolean;
}
const show = (f: Flow) => `${f.from.name} → ${f.to.name} ${f.port}/${f.protocol}`;

/** The flows a release must allow and must deny, for its values. */
function flowTable(manifests: readonly Manifest[], c: ValuesCase): Flow[] {
  const v = mergedValues(defaults, presets, c);
  // On the host network a game server is its node's address, whatever its labels: many network
  // plugins never match host traffic to pod labels, and apply no policy to such pods.
  const hostNetwork = v.udp.mode === 'hostNetwork';
  const game: Endpoint = hostNetwork
    ? ip('a game server on the host network, at its node address', addressIn((v.networkPolicy.nodeCIDRs as string[])[0]!))
    : podOf(manifests, COMPONENTS.gameServer);
  const migrate = podOf(manifests, COMPONENTS.migrate);
  const test = podOf(manifests, COMPONENTS.test);
  const monitoring: PodEndpoint = { kind: 'pod', name: 'Prometheus', namespace: v.monitoring.namespace, namespaceLabels: { 'kubernetes.io/metadata.name': v.monitoring.namespace }, labels: { app: 'prometheus' } };
  // Another namespace's pod, even one wearing the game server's labels, is still a stranger.
  const stranger: PodEndpoint = { ...podOf(manifests, COMPONENTS.gameServer), name: 'a pod of another namespace', namespace: 'shop', namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' } };
  const OUTSIDER = ip('a machine outside the nodes', '192.0.2.99');
  const flows: Flow[] = [];
  const allow = (from: Endpoint, to: Endpoint, port: number, protocol: Protocol = 'TCP') => flows.push({ from, to, port, protocol, allowed: true });
  const deny = (from: Endpoint, to: Endpoint, port: number, protocol: Protocol = 'TCP') => flows.push({ from, to, port, protocol, allowed: false });

  const services = [
    { key: 'postgres', port: 5432 },
    { key: 'redis', port: 6379 },
    { key: 'rabbitmq', port: 5672 },
  ] as const;
  for (const { key, port } of services) {
    const s = v[key];
    if (s.enabled) {
      const pod = podOf(manifests, key);
      allow(game, pod, port);
      (key === 'postgres' ? allow : deny)(migrate, pod, port);
      deny(stranger, pod, port);
      deny(monitoring, pod, port);
      deny(test, pod, port);
      deny(OUTSIDER, pod, port);
      // The bundled service is the only one: the same port elsewhere stays closed.
      deny(game, INTERNET, port);
      deny(game, pod, port + 1);
    } else {
      const external = ip(`the external ${key}`, addressIn((s.external.cidrs as string[]).find((x) => !x.includes(':'))!));
      allow(game, external, s.external.port);
      (key === 'postgres' ? allow : deny)(migrate, external, s.external.port);
      deny(game, external, s.external.port + 1);
    }
  }

  // The backup dump reads PostgreSQL and nothing else; nothing reaches it.
  if (v.backup.pgDump.enabled) {
    const backup = podOf(manifests, COMPONENTS.backup);
    const pg = v.postgres.enabled ? podOf(manifests, COMPONENTS.postgres) : ip('the external postgres', addressIn((v.postgres.external.cidrs as string[]).find((x) => !x.includes(':'))!));
    allow(backup, pg, v.postgres.enabled ? 5432 : v.postgres.external.port);
    allow(backup, DNS, 53, 'UDP');
    for (const key of ['redis', 'rabbitmq'] as const) if (v[key].enabled) deny(backup, podOf(manifests, key), key === 'redis' ? 6379 : 5672);
    deny(backup, INTERNET, 443);
    deny(backup, game, PORTS.game);
    deny(stranger, backup, 5432);
    deny(game, backup, 8080);
    deny(PLAYER, backup, 8080);
  } else {
    expect(podSpecs(manifests).some((p) => p.labels[LABELS.component] === COMPONENTS.backup), 'no backup pod when backup.pgDump is off').toBe(false);
  }

  allow(test, game, PORTS.game);
  allow(test, game, PORTS.health);
  allow(monitoring, game, PORTS.metrics);
  deny(stranger, game, PORTS.metrics);
  deny(stranger, game, PORTS.health);
  allow(PLAYER, game, PORTS.game);
  deny(PLAYER, game, PORTS.health);
  deny(PLAYER, game, PORTS.metrics);
  const udp = boundUdpPort(manifests, c);
  if (v.udp.mode === 'disabled') {
    expect(udp, 'no UDP port when udp.mode is disabled').toBeUndefined();
    deny(PLAYER, game, v.udp.port, 'UDP');
  } else {
    expect(udp, `${ENV.udpPort.name} of the game server`).toBeGreaterThan(0);
    allow(PLAYER, game, udp!, 'UDP');
    // WebRTC answers players from the game UDP port.
    allow(game, PLAYER, 50_000, 'UDP');
  }

  for (const pod of [game, migrate, test]) {
    allow(pod, DNS, 53, 'UDP');
    allow(pod, DNS, 53, 'TCP');
  }
  for (const key of ['postgres', 'redis', 'rabbitmq'] as const) {
    if (!v[key].enabled) continue;
    // Data services answer; they open nothing themselves, not even DNS.
    deny(podOf(manifests, key), DNS, 53, 'UDP');
    deny(podOf(manifests, key), INTERNET, 443);
  }

  // Nothing else leaves the game servers: no web, no SSH, no other pods.
  deny(game, INTERNET, 80);
  deny(game, INTERNET, 22);
  deny(game, stranger, PORTS.game);
  deny(game, test, 8080);
  deny(migrate, INTERNET, 443);
  deny(test, INTERNET, 443);
  deny(test, game, PORTS.metrics);
  // Only the per-node UDP modes read their Node from the API server.
  const perNode = ['nodePort', 'hostPort', 'hostNetwork'].includes(v.udp.mode);
  expect((v.networkPolicy.apiServerPorts as number[]).length, 'networkPolicy.apiServerPorts').toBeGreaterThan(0);
  for (const port of v.networkPolicy.apiServerPorts as number[]) (perNode ? allow : deny)(game, API_SERVER, port);
  // No policy selects a game server on the host network: what it sends and receives is open, and only
  // the other side's policy decides.
  return hostNetwork ? flows.filter((f) => f.allowed || (f.from !== game && f.to !== game)) : flows;
}

const table = majors.flatMap((major) => cases.map((c) => ({ major, c, label: `helm ${major}, ${c.name}` })));

describe.each(table)('$label: NetworkPolicy flows', ({ major, c }) => {
  it('allows exactly the flows the game needs and denies the rest', () => {
    const manifests = rendered.get(`${major}|${c.name}`)!;
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
    expect(policies.length).toBeGreaterThan(3);
    const flows = flowTable(manifests, c);
    const wrong = flows.filter((f) => allows(policies, f.from, f.to, f.port, f.protocol) !== f.allowed).map((f) => `${show(f)} should be ${f.allowed ? 'allowed' : 'denied'}`);
    expect(wrong).toEqual([]);
    // Without policies every flow passes: the denials above come from the chart's rules.
    expect(flows.filter((f) => !f.allowed).length).toBeGreaterThan(5);
    expect(flows.every((f) => allows([], f.from, f.to, f.port, f.protocol))).toBe(true);
  });
});

/**
 * Where the helm test pod's bots connect, read from its rendered command line the way the load
 * generator reads it (defaults included): each URL as the Service it names, the port on that Service
 * and the game server container port behind it. A URL naming a port the Service lacks is an error.
 */
function testPodDials(manifests: readonly Manifest[]): { url: string; service: string; containerPort: number }[] {
  const argv = testPodCommand(manifests);
  expect(argv.slice(0, 2)).toEqual(['node', 'client/loadtest/main.ts']);
  const o = parseOptions(argv.slice(2));
  const gamePod = podOf(manifests, COMPONENTS.gameServer);
  return [o.serverUrl, ...(o.metricsUrl ? [o.metricsUrl] : [])].map((url) => {
    const u = new URL(url);
    const [service, namespace, svc] = u.hostname.split('.');
    expect([namespace, svc], `${url} names a Service of the release namespace`).toEqual([NS, 'svc']);
    const spec = find(manifests, 'Service', service!).spec as { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
    // An empty selector would select every pod, and `every` below would pass on it.
    expect(Object.keys(spec.selector).length, `Service ${service} has a selector`).toBeGreaterThan(0);
    expect(Object.entries(spec.selector).every(([k, v]) => gamePod.labels[k] === v), `Service ${service} selects the game servers`).toBe(true);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const entry = spec.ports.find((p) => p.port === port);
    if (!entry) throw new Error(`${url}: Service ${service} has no port ${port} (it has ${spec.ports.map((p) => p.port).join(', ')})`);
    const target = typeof entry.targetPort === 'number' ? entry.targetPort : gamePod.ports?.find((p) => p.name === entry.targetPort)?.containerPort;
    if (target === undefined) throw new Error(`${url}: no container port named ${entry.targetPort} on the game server`);
    return { url, service: service!, containerPort: target };
  });
}

describe.each(table)('$label: the helm test pod', ({ major, c }) => {
  it('reaches every address its bots dial under the chart\'s NetworkPolicy (--url, and --metrics-url unless none)', () => {
    const manifests = rendered.get(`${major}|${c.name}`)!;
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
    const v = mergedValues(defaults, presets, c);
    const game: Endpoint = v.udp.mode === 'hostNetwork'
      ? ip('a game server on the host network, at its node address', addressIn((v.networkPolicy.nodeCIDRs as string[])[0]!))
      : podOf(manifests, COMPONENTS.gameServer);
    const dials = testPodDials(manifests);
    expect(dials[0]?.containerPort, 'the bots play on the game port').toBe(PORTS.game);
    const test = podOf(manifests, COMPONENTS.test);
    expect(dials.filter((d) => !allows(policies, test, game, d.containerPort, 'TCP')).map((d) => d.url)).toEqual([]);
  });
});

// Readiness turns false on every game pod while a shared data store (Redis, RabbitMQ, PostgreSQL)
// restarts. Connected players must not notice: WebSocket connections are established TCP, which
// kube-proxy leaves alone; UDP players reach their pod through the UDP Service's node port, whose
// conntrack entries kube-proxy clears when the pod stops being an endpoint, so that Service publishes
// not-ready pods. New players still wait for a ready pod: they signal through the game Service first.
// The cases whose UDP players come through the UDP Service (udp.mode nodePort); in the host modes and
// through a relay no Service stands between a player and its pod.
const ROUTING_CASES = ['chart defaults', 'preset production', 'udp nodePort'];
const routingTable = majors.flatMap((major) => cases.filter((c) => ROUTING_CASES.includes(c.name)).map((c) => ({ major, c, label: `helm ${major}, ${c.name}` })));

describe.each(routingTable)('$label: players through a data-store restart', ({ major, c }) => {
  it('keeps connected UDP and WebSocket players flowing while no game pod is ready, and holds new players back', () => {
    expect(mergedValues(defaults, presets, c).udp.mode).toBe('nodePort');
    const manifests = rendered.get(`${major}|${c.name}`)!;
    const udp = find(manifests, 'Service', 'game-mmo-server-udp');
    const game = find(manifests, 'Service', 'game-mmo-server');
    const labels = podOf(manifests, COMPONENTS.gameServer).labels;
    const pods: ServedPod[] = ['a', 'b', 'c'].map((n) => ({ name: `game-${n}`, labels, node: `node-${n}`, ready: true }));
    const names = (ps: ServedPod[]) => ps.map((p) => p.name);

    // Healthy: a node's UDP port reaches the game pod on that node; signalling reaches any ready pod.
    expect(names(deliveredTo(udp, pods, { node: 'node-a' }))).toEqual(['game-a']);
    expect(names(deliveredTo(game, pods, 'clusterIP'))).toEqual(['game-a', 'game-b', 'game-c']);

    const outage = pods.map((p) => ({ ...p, ready: false }));
    expect(keepsFlowing(udp, outage, pods[0]!), 'a connected UDP player').toBe(true);
    expect(names(deliveredTo(udp, outage, { node: 'node-a' })), "the UDP player's packets").toEqual(['game-a']);
    expect(keepsFlowing(game, outage, pods[0]!), 'a connected WebSocket player').toBe(true);
    expect(deliveredTo(game, outage, 'clusterIP'), "a new player's signalling").toEqual([]);
    // The rule that does it: without it, every UDP player would be cut.
    const unpublished = { ...udp, spec: { ...(udp.spec as object), publishNotReadyAddresses: false } };
    expect(keepsFlowing(unpublished, outage, pods[0]!)).toBe(false);
  });
});
