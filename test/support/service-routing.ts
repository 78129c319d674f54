/**
 * Where kube-proxy delivers traffic for a Service, by the rules of the Service and EndpointSlice APIs,
 * for the flow tests of the chart suite (the rig's pods have no network to try it on):
 * - the Service's selector picks pods; a picked pod is an endpoint while it is ready, or always when
 *   the Service publishes not-ready addresses (`publishNotReadyAddresses`);
 * - through a node port with `externalTrafficPolicy: Local`, only endpoints on the node that received
 *   the packet get it; otherwise any endpoint;
 * - a connection that exists keeps its pod while that pod stays an endpoint: when it stops being one,
 *   kube-proxy deletes the UDP conntrack entries towards it (the player's packets go nowhere), while
 *   established TCP connections are left alone until they close.
 */
import type { Manifest } from './k8s-strict.ts';
import { selects } from './policy.ts';

/** A pod as the Service sees it. */
export interface ServedPod {
  name: string;
  labels: Record<string, string>;
  node: string;
  ready: boolean;
}

interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
  publishNotReadyAddresses?: boolean;
  externalTrafficPolicy?: string;
  ports: { port: number; nodePort?: number; protocol?: string }[];
}

const specOf = (service: Manifest) => service.spec as ServiceSpec;

/** The pods that are endpoints of the Service. */
export function endpoints(service: Manifest, pods: readonly ServedPod[]): ServedPod[] {
  const spec = specOf(service);
  return pods.filter((p) => selects(spec.selector, p.labels) && (p.ready || spec.publishNotReadyAddresses === true));
}

/** The pods a new connection can land on: through the cluster IP, or through the node port of `node`. */
export function deliveredTo(service: Manifest, pods: readonly ServedPod[], via: { node: string } | 'clusterIP'): ServedPod[] {
  const spec = specOf(service);
  const eps = endpoints(service, pods);
  if (via === 'clusterIP') return eps;
  if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') return [];
  return spec.externalTrafficPolicy === 'Local' ? eps.filter((p) => p.node === via.node) : eps;
}

/** Whether a connection already open to `pod` through the Service keeps flowing now. */
export function keepsFlowing(service: Manifest, pods: readonly ServedPod[], pod: ServedPod): boolean {
  const protocol = specOf(service).ports[0]?.protocol ?? 'TCP';
  return protocol === 'TCP' || endpoints(service, pods).some((p) => p.name === pod.name);
}
