/**
 * What a set of NetworkPolicies lets through, by the rules of networking.k8s.io/v1: a connection
 * passes when the source's egress allows it (or no policy with Egress selects the source) and the
 * destination's ingress allows it (or no policy with Ingress selects the destination). The rig stores
 * policies but enforces none, so the chart suite asks this instead. Only the parts of the API the
 * chart uses are read; anything else (matchExpressions, an ipBlock against a pod) throws rather than
 * guessing.
 */
import type { Manifest } from './k8s-strict.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A pod: its namespace (with the namespace's labels) and labels, and its named container ports. */
export interface PodEndpoint {
  kind: 'pod';
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}

/** An address outside the cluster's pods (players, a managed database, DNS, the API server). */
export interface IpEndpoint {
  kind: 'ip';
  name: string;
  ip: string;
}

export type Endpoint = PodEndpoint | IpEndpoint;

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: Protocol;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}
interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

function matches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector?.matchExpressions?.length) throw new Error('netpol: matchExpressions are not evaluated');
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`netpol: not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

/** Whether `ip` lies in `cidr`. IPv6 ranges never hold an IPv4 address (the endpoints here are IPv4). */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  if (base!.includes(':')) return false;
  const bits = Number(bitsText ?? 32);
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base!) / size);
}

function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) {
    // Whether ipBlock covers pod addresses depends on the network plugin; the flows never ask it.
    if (other.kind === 'pod') return false;
    return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inCidr(other.ip, e));
  }
  if (other.kind !== 'pod') return false;
  const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, other.namespaceLabels) : other.namespace === policyNamespace;
  const podOk = peer.podSelector ? matches(peer.podSelector, other.labels) : true;
  return nsOk && podOk;
}

function portMatches(p: PolicyPort, destination: Endpoint, port: number, protocol: Protocol): boolean {
  if ((p.protocol ?? 'TCP') !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'string') {
    // A named port is the destination pod's container port of that name and protocol.
    if (destination.kind !== 'pod') return false;
    return (destination.ports ?? []).some((cp) => cp.name === p.port && (cp.protocol ?? 'TCP') === protocol && cp.containerPort === port);
  }
  return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
}

function ruleAllows(rule: Rule, peers: Peer[] | undefined, policyNamespace: string, other: Endpoint, destination: Endpoint, port: number, protocol: Protocol): boolean {
  const peerOk = !peers?.length || peers.some((peer) => peerMatches(peer, policyNamespace, other));
  const portOk = !rule.ports?.length || rule.ports.some((p) => portMatches(p, destination, port, protocol));
  return peerOk && portOk;
}

function typesOf(spec: PolicySpec): ('Ingress' | 'Egress')[] {
  if (spec.policyTypes) return spec.policyTypes;
  return spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Whether the policies of one direction let `pod` talk to (egress) or hear from (ingress) `other`. */
function side(policies: readonly Manifest[], direction: 'Ingress' | 'Egress', pod: Endpoint, other: Endpoint, destination: Endpoint, port: number, protocol: Protocol): boolean {
  if (pod.kind !== 'pod') return true;
  const selecting = policies.filter((m) => {
    if (m.kind !== 'NetworkPolicy') return false;
    const spec = m.spec as PolicySpec;
    return (m.metadata.namespace ?? '') === pod.namespace && typesOf(spec).includes(direction) && matches(spec.podSelector, pod.labels);
  });
  if (selecting.length === 0) return true;
  return selecting.some((m) => {
    const spec = m.spec as PolicySpec;
    const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
    return rules.some((r) => ruleAllows(r, direction === 'Ingress' ? r.from : r.to, m.metadata.namespace ?? '', other, destination, port, protocol));
  });
}

/** Whether `from` may open a connection to `to` on `port`/`protocol` under `policies`. */
export function allows(policies: readonly Manifest[], from: Endpoint, to: Endpoint, port: number, protocol: Protocol): boolean {
  return side(policies, 'Egress', from, to, to, port, protocol) && side(policies, 'Ingress', to, from, to, port, protocol);
}
