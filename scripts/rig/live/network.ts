/**
 * The live rig's network on this machine: which addresses it hands out or invents, where each is
 * routed, and the check that none of it can leak off the machine or hide an address the machine uses.
 *
 * Per live rig (one *slot*, 0–14, claimed by creating its bridge `mmo-rig<slot>`, which the kernel
 * creates only once):
 * - process pods get addresses from `10.245.<slot>.0/24` on that bridge (the bridge holds `.1`);
 * - the three nodes' InternalIP `10.0.<slot>.11–13` and ExternalIP `203.0.113.<16·slot+11–13>` are
 *   addresses *of the bridge* (local: answered by this machine, never routed), so hostPort mappings
 *   and the kubelet API have somewhere real to live;
 * - what the rig invents and nothing answers — kwok's pod addresses, Service ClusterIPs, the
 *   LoadBalancer pool — is blackholed. Those ranges are the same for every rig; each rig adds its own
 *   blackhole route, told apart by protocol ROUTE_PROTOCOL and a metric of 1000 + slot, and `down`
 *   deletes exactly that route.
 *
 * The pure part (planNetwork, checkPlan) is unit-tested with tables of machine routes; the rest runs
 * `ip` as root.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { RIG_NODES, type RigNode } from '../cluster.ts';

const execFileAsync = promisify(execFile);

/** kwok's pod range (`options.cidr` in kwok.yaml): 1,022 addresses, three times the nodes' 330 pods. */
export const KWOK_POD_CIDR = '10.244.0.0/22';
/** The API server's `--service-cluster-ip-range`: ClusterIPs are data only (no kube-proxy). */
export const SERVICE_CIDR = '10.96.0.0/16';
/** Where kwok's LoadBalancer Stage takes ingress addresses from (TEST-NET-2). */
export const LOAD_BALANCER_CIDR = '198.51.100.0/24';
/** Live rigs that can run at once on one machine. */
export const SLOTS = 15;
/** `proto` of every route a live rig adds (unassigned in /etc/iproute2/rt_protos). */
export const ROUTE_PROTOCOL = 109;
/** Bridge names are `mmo-rig<slot>`. */
export const BRIDGE_PREFIX = 'mmo-rig';

/** What one live rig owns on the machine. */
export interface NetworkPlan {
  readonly slot: number;
  readonly bridge: string;
  /** Process pods' addresses: routed to the bridge. */
  readonly podCidr: string;
  /** The bridge's own address in podCidr: where pods reach the API server and the data services. */
  readonly hostAddress: string;
  /** The first and last address host-local hands out. */
  readonly podRange: { readonly start: string; readonly end: string };
  readonly nodes: readonly RigNode[];
  /** Routes of type blackhole this rig adds, and why. */
  readonly blackholes: readonly { readonly cidr: string; readonly why: string }[];
  /** The metric that tells this rig's routes from another rig's routes of the same range. */
  readonly metric: number;
  /** Network namespaces of this rig's pods start with this. */
  readonly netnsPrefix: string;
}

/** What the machine already uses, read from the system at `up`. */
export interface MachineNetwork {
  /** `nameserver` lines of /etc/resolv.conf. */
  readonly resolvers: readonly string[];
  /** Routes of the main table as `ip -j route show` prints them. */
  readonly routes: readonly MachineRoute[];
  /** Interface addresses (`ip -j addr`): interface and address/prefix. */
  readonly addresses: readonly { readonly dev: string; readonly cidr: string }[];
}

export interface MachineRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly type?: string;
  readonly protocol?: string;
  readonly metric?: number;
}

// --- addresses ---------------------------------------------------------------------------------

/** An IPv4 address as a 32-bit unsigned number; undefined when `ip` is not dotted-quad IPv4. */
export function ipv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function ipv4String(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** First and last address of a CIDR (`a.b.c.d` alone is a /32); undefined for what is not IPv4. */
export function cidrRange(cidr: string): { first: number; last: number } | undefined {
  const [ip, bits = '32'] = cidr === 'default' ? ['0.0.0.0', '0'] : cidr.split('/');
  const base = ipv4(ip!);
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const first = base - (base % size);
  return { first, last: first + size - 1 };
}

/** True when the two ranges share an address. */
export function overlaps(a: string, b: string): boolean {
  const x = cidrRange(a);
  const y = cidrRange(b);
  return !!x && !!y && x.first <= y.last && y.first <= x.last;
}

/** True when range `outer` holds all of `inner`. */
export function covers(outer: string, inner: string): boolean {
  const x = cidrRange(outer);
  const y = cidrRange(inner);
  return !!x && !!y && x.first <= y.first && y.last <= x.last;
}

// --- the plan ------------------------------------------------------------------------------------

/** Everything live rig number `slot` owns. Pure. */
export function planNetwork(slot: number): NetworkPlan {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new Error(`live rig slot ${slot} is not one of 0–${SLOTS - 1}`);
  return {
    slot,
    bridge: `${BRIDGE_PREFIX}${slot}`,
    podCidr: `10.245.${slot}.0/24`,
    hostAddress: `10.245.${slot}.1`,
    podRange: { start: `10.245.${slot}.2`, end: `10.245.${slot}.254` },
    nodes: RIG_NODES.map((n, i) => ({ name: n.name, zone: n.zone, internalIP: `10.0.${slot}.${11 + i}`, externalIP: `203.0.113.${16 * slot + 11 + i}` })),
    blackholes: [
      { cidr: KWOK_POD_CIDR, why: "kwok's pod addresses (nothing answers there)" },
      { cidr: SERVICE_CIDR, why: 'Service ClusterIPs (no kube-proxy routes them)' },
      { cidr: LOAD_BALANCER_CIDR, why: "kwok's LoadBalancer ingress addresses" },
    ],
    metric: 1000 + slot,
    netnsPrefix: `mmo-r${slot}-`,
  };
}

/** Every range the plan puts somewhere (bridge, local addresses, blackholes), with what it is. */
export function plannedRanges(plan: NetworkPlan): { cidr: string; what: string }[] {
  return [
    { cidr: plan.podCidr, what: `process pod range on ${plan.bridge}` },
    ...plan.nodes.flatMap((n) => [
      { cidr: `${n.internalIP}/32`, what: `${n.name}'s InternalIP on ${plan.bridge}` },
      { cidr: `${n.externalIP}/32`, what: `${n.name}'s ExternalIP on ${plan.bridge}` },
    ]),
    ...plan.blackholes.map((b) => ({ cidr: b.cidr, what: `blackhole for ${b.why}` })),
  ];
}

/** True for a route a live rig added (its bridge's subnet or one of its tagged blackholes). */
export function isRigRoute(r: MachineRoute): boolean {
  return String(r.protocol) === String(ROUTE_PROTOCOL) || (r.dev?.startsWith(BRIDGE_PREFIX) ?? false);
}

/**
 * Why the plan must not be applied on this machine: a planned range holding the machine's resolver,
 * a gateway, one of its own addresses, or overlapping a route of the machine (other than the default
 * route, which the narrower planned routes are meant to override, and routes of live rigs). Empty
 * when it is safe. Pure.
 */
export function checkPlan(plan: NetworkPlan, machine: MachineNetwork): string[] {
  const reasons: string[] = [];
  const gateways = [...new Set(machine.routes.map((r) => r.gateway).filter((g): g is string => !!g))];
  const used: { ip: string; what: string }[] = [
    ...machine.resolvers.map((ip) => ({ ip, what: "the machine's resolver (/etc/resolv.conf)" })),
    ...gateways.map((ip) => ({ ip, what: "the machine's gateway (ip route)" })),
    ...machine.addresses.filter((a) => !a.dev.startsWith(BRIDGE_PREFIX)).map((a) => ({ ip: a.cidr.split('/')[0]!, what: `an address of ${a.dev}` })),
  ];
  for (const range of plannedRanges(plan)) {
    for (const u of used) {
      if (ipv4(u.ip) !== undefined && covers(range.cidr, u.ip)) reasons.push(`${range.cidr} (${range.what}) holds ${u.ip}, ${u.what}`);
    }
    for (const r of machine.routes) {
      if (r.dst === 'default' || isRigRoute(r) || !overlaps(range.cidr, r.dst)) continue;
      reasons.push(`${range.cidr} (${range.what}) overlaps the machine's route ${describeRoute(r)}`);
    }
  }
  return reasons;
}

function describeRoute(r: MachineRoute): string {
  return [r.type && r.type !== 'unicast' ? r.type : '', r.dst, r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : ''].filter(Boolean).join(' ');
}

/**
 * What `ip route get <address>` must answer once the plan is applied, for one address of each range:
 * a pod address goes to the bridge, a node address is local, a blackholed one is refused. Pure.
 */
export function expectedRouting(plan: NetworkPlan): { address: string; want: 'bridge' | 'local' | 'blackhole'; what: string }[] {
  const firstOf = (cidr: string) => ipv4String(cidrRange(cidr)!.first + 1);
  return [
    { address: plan.podRange.start, want: 'bridge', what: 'the first process pod address' },
    { address: plan.podRange.end, want: 'bridge', what: 'the last process pod address' },
    ...plan.nodes.flatMap((n) => [
      { address: n.internalIP, want: 'local' as const, what: `${n.name}'s InternalIP` },
      { address: n.externalIP, want: 'local' as const, what: `${n.name}'s ExternalIP` },
    ]),
    ...plan.blackholes.flatMap((b) => [
      { address: firstOf(b.cidr), want: 'blackhole' as const, what: b.why },
      { address: ipv4String(cidrRange(b.cidr)!.last - 1), want: 'blackhole' as const, what: b.why },
    ]),
  ];
}

// --- the machine ---------------------------------------------------------------------------------

/** Runs `ip` with arguments; rejects with its stderr. */
export async function ip(args: string[]): Promise<string> {
  try {
    return (await execFileAsync('ip', args, { timeout: 10_000 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the live rig needs the `ip` command (Debian package iproute2)', { cause: err });
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

/** Nameservers of a resolv.conf text (IPv4 and IPv6 as written). Pure. */
export function resolversOf(resolvConf: string): string[] {
  return resolvConf.split('\n').flatMap((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    return m ? [m[1]!] : [];
  });
}

/** The machine's resolvers, main-table routes and interface addresses, as they are now. */
export async function readMachine(resolvConf = '/etc/resolv.conf'): Promise<MachineNetwork> {
  let resolvers: string[] = [];
  try {
    resolvers = resolversOf(readFileSync(resolvConf, 'utf8'));
  } catch {
    // No resolv.conf: no resolver to protect.
  }
  const routes = JSON.parse(await ip(['-j', '-4', 'route', 'show', 'table', 'main'])) as MachineRoute[];
  const links = JSON.parse(await ip(['-j', '-4', 'addr', 'show'])) as { ifname: string; addr_info?: { family: string; local: string; prefixlen: number }[] }[];
  const addresses = links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => ({ dev: l.ifname, cidr: `${a.local}/${a.prefixlen}` })));
  return { resolvers, routes, addresses };
}

/** Thrown when the machine is not fit for the live rig; the message says why and what to do. */
export class LiveNetworkError extends Error {
  override name = 'LiveNetworkError';
}

/**
 * Claims the first free slot (creating its bridge, which fails if another rig has it), applies the
 * plan, and checks the result with `ip route get` before anything connects. Refuses — changing
 * nothing — when the plan would cover an address the machine uses. `owner` (this rig's state
 * directory) is written as the bridge's alias, so a rig whose state was lost can be cleaned up.
 */
export async function setUpNetwork(owner: string, log: (line: string) => void = () => {}): Promise<NetworkPlan> {
  const machine = await readMachine();
  for (let slot = 0; slot < SLOTS; slot++) {
    const plan = planNetwork(slot);
    const reasons = checkPlan(plan, machine);
    if (reasons.length) {
      throw new LiveNetworkError(
        `the live rig refuses to start: its routes would hide addresses this machine uses:\n- ${reasons.join('\n- ')}\n` +
          'Nothing was changed. The ranges are fixed in scripts/rig/live/network.ts (planNetwork); move them off the machine\'s networks.',
      );
    }
    try {
      await ip(['link', 'add', 'name', plan.bridge, 'type', 'bridge']);
    } catch (err) {
      if (/File exists/.test((err as Error).message)) continue; // another live rig has this slot
      throw err;
    }
    try {
      await applyPlan(plan, owner);
      await verifyRouting(plan);
      log(`live network: slot ${slot}, bridge ${plan.bridge} ${plan.hostAddress}, pods ${plan.podCidr}`);
      return plan;
    } catch (err) {
      await tearDownNetwork(plan);
      throw err;
    }
  }
  throw new LiveNetworkError(`every live rig slot (${SLOTS}) is taken: bridges ${BRIDGE_PREFIX}0–${SLOTS - 1} exist. Stop another checkout's live rig (npm run rig -- down there) or remove a stale one with scripts/rig/cli.ts down.`);
}

async function applyPlan(plan: NetworkPlan, owner: string): Promise<void> {
  await ip(['link', 'set', 'dev', plan.bridge, 'alias', owner.slice(0, 255)]);
  await ip(['addr', 'add', `${plan.hostAddress}/24`, 'dev', plan.bridge]);
  for (const n of plan.nodes) {
    await ip(['addr', 'add', `${n.internalIP}/32`, 'dev', plan.bridge]);
    await ip(['addr', 'add', `${n.externalIP}/32`, 'dev', plan.bridge]);
  }
  await ip(['link', 'set', 'dev', plan.bridge, 'up']);
  for (const b of plan.blackholes) {
    await ip(['route', 'add', 'blackhole', b.cidr, 'proto', String(ROUTE_PROTOCOL), 'metric', String(plan.metric)]);
  }
}

/** Checks with `ip route get` that every range is routed as planned; throws naming the first that is not. */
export async function verifyRouting(plan: NetworkPlan): Promise<void> {
  const wrong: string[] = [];
  for (const e of expectedRouting(plan)) {
    let got: string;
    try {
      const [r] = JSON.parse(await ip(['-j', 'route', 'get', e.address])) as { type?: string; dev?: string }[];
      got = r?.type === 'local' ? 'local' : r?.dev === plan.bridge ? 'bridge' : `dev ${r?.dev ?? '?'} (${r?.type ?? 'unicast'})`;
    } catch (err) {
      got = /Invalid argument/.test((err as Error).message) ? 'blackhole' : (err as Error).message;
    }
    if (got !== e.want) wrong.push(`${e.address} (${e.what}) goes to ${got}, expected ${e.want === 'bridge' ? plan.bridge : e.want}`);
  }
  if (wrong.length) throw new LiveNetworkError(`the live rig refuses to start: its routes are not what it planned:\n- ${wrong.join('\n- ')}`);
}

/**
 * Removes what setUpNetwork added for `plan` — its bridge (with its addresses and subnet route) and
 * its own blackhole routes — and nothing else. Idempotent.
 */
export async function tearDownNetwork(plan: NetworkPlan): Promise<void> {
  for (const b of plan.blackholes) {
    await ip(['route', 'del', 'blackhole', b.cidr, 'proto', String(ROUTE_PROTOCOL), 'metric', String(plan.metric)]).catch(() => {});
  }
  await ip(['link', 'del', 'dev', plan.bridge]).catch((err: Error) => {
    if (!/Cannot find device|does not exist/.test(err.message)) throw err;
  });
}

/** Bridges of live rigs on this machine: slot and owner (the state directory written as alias). */
export async function liveBridges(): Promise<{ slot: number; bridge: string; owner: string }[]> {
  const links = JSON.parse(await ip(['-j', '-d', 'link', 'show', 'type', 'bridge'])) as { ifname: string; ifalias?: string }[];
  return links.flatMap((l) => {
    const m = new RegExp(`^${BRIDGE_PREFIX}(\\d+)$`).exec(l.ifname);
    return m ? [{ slot: Number(m[1]), bridge: l.ifname, owner: l.ifalias ?? '' }] : [];
  });
}

// --- the portmap plugin's chains -------------------------------------------------------------------

/**
 * The nat chains the portmap CNI plugin creates the first time it maps a port, and the jumps into
 * them, which no CNI DEL ever removes. A live rig going down removes them once no mapping is left in
 * them, unless they were there when it came up (the plugin makes them again on its next mapping).
 */
const PORTMAP_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK'];
const PORTMAP_JUMPS = [
  ['PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT'],
  ['OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT'],
  ['POSTROUTING', '-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ'],
];

async function iptables(args: string[]): Promise<string> {
  return (await execFileAsync('iptables', ['-w', '5', ...args], { timeout: 15_000 })).stdout;
}

/** True when the portmap plugin's DNAT chain exists in the nat table. */
export async function portmapChainsPresent(): Promise<boolean> {
  return iptables(['-t', 'nat', '-S', PORTMAP_CHAINS[0]!]).then(() => true, () => false);
}

/**
 * Removes the hostPort mappings the portmap plugin made for pods of `bridge` (its rules carry the
 * network's name, which is the bridge's) — those of sandboxes whose record was lost, which CNI DEL
 * cannot find. Returns how many mappings it removed.
 */
export async function removeHostPortMappings(bridge: string): Promise<number> {
  if (!(await portmapChainsPresent())) return 0;
  const listing = await iptables(['-t', 'nat', '-L', PORTMAP_CHAINS[0]!, '-n', '--line-numbers']);
  const ours = listing
    .split('\n')
    .map((l) => /^(\d+)\s+(CNI-DN-\S+)\s.*dnat name: "([^"]+)"/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && m[3] === bridge)
    .map((m) => ({ line: Number(m[1]), chain: m[2]! }))
    .sort((a, b) => b.line - a.line);
  for (const r of ours) {
    await iptables(['-t', 'nat', '-D', PORTMAP_CHAINS[0]!, String(r.line)]);
    await iptables(['-t', 'nat', '-F', r.chain]).catch(() => {});
    await iptables(['-t', 'nat', '-X', r.chain]).catch(() => {});
  }
  return ours.length;
}

/**
 * Removes the portmap plugin's chains and jumps when no mapping is left in them (the plugin makes
 * them again on its next mapping, so another live rig loses nothing). Returns whether it removed them.
 */
export async function removePortmapChains(): Promise<boolean> {
  if (!(await portmapChainsPresent())) return false;
  const rules = (await iptables(['-t', 'nat', '-S', PORTMAP_CHAINS[0]!])).split('\n').filter((l) => l.startsWith('-A '));
  if (rules.length) return false;
  for (const jump of PORTMAP_JUMPS) await iptables(['-t', 'nat', '-D', ...jump]).catch(() => {});
  for (const chain of PORTMAP_CHAINS) {
    await iptables(['-t', 'nat', '-F', chain]).catch(() => {});
    await iptables(['-t', 'nat', '-X', chain]).catch(() => {});
  }
  return true;
}
