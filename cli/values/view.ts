/**
 * The chart values mmoctl itself reads (UDP mode and ports, Services, data services, monitoring,
 * ingress, capacity), typed. Everything else in the values is only helm's business.
 */
import type { Values } from './compute.ts';

export type UdpMode = 'nodePort' | 'hostPort' | 'hostNetwork' | 'relay' | 'disabled';
export const DATA_SERVICES = ['postgres', 'redis', 'rabbitmq'] as const;
export type DataService = (typeof DATA_SERVICES)[number];

export interface DataServiceValues {
  readonly enabled: boolean;
  readonly persistence?: { readonly size?: string; readonly storageClass?: string };
  readonly external?: { readonly host?: string; readonly port?: number; readonly existingSecret?: string; readonly existingSecretKey?: string };
}

export interface ChartValues {
  readonly udp: { readonly mode: UdpMode; readonly port: number; readonly nodePort: number; readonly announce: { readonly addressTypes: readonly string[] } };
  readonly service: { readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer'; readonly port: number; readonly nodePort?: number | null };
  readonly ingress: { readonly enabled: boolean; readonly className?: string; readonly hosts?: readonly string[]; readonly tls?: readonly unknown[] };
  readonly monitoring: { readonly serviceMonitor: { readonly enabled: boolean }; readonly prometheusRule: { readonly enabled: boolean } };
  readonly gameServer: {
    readonly rollingUpdate?: { readonly maxSurge?: number };
    readonly spread?: { readonly mode?: string };
    readonly autoscaling?: { readonly enabled?: boolean; readonly keda?: { readonly enabled?: boolean } };
  };
  readonly vpa?: { readonly enabled?: boolean };
  readonly mesh?: { readonly istio?: { readonly enabled?: boolean } };
  readonly backup?: { readonly velero?: { readonly enabled?: boolean } };
  readonly canary: { readonly enabled: boolean };
  readonly capacity: { readonly playersPerPod: number };
  readonly postgres: DataServiceValues;
  readonly redis: DataServiceValues;
  readonly rabbitmq: DataServiceValues;
}

/** The merged values, seen through the fields mmoctl reads. */
export function chartValues(values: Values): ChartValues {
  return values as unknown as ChartValues;
}

/** The UDP modes where one game server per node owns the node's UDP port and announces its address. */
export function udpPerNode(mode: UdpMode): boolean {
  return mode === 'nodePort' || mode === 'hostPort' || mode === 'hostNetwork';
}

/** The UDP port players send to: the node port, or the pinned port of the host modes. */
export function udpPlayerPort(v: ChartValues): number {
  return v.udp.mode === 'nodePort' ? v.udp.nodePort : v.udp.port;
}

/** The Pod Security level the release's pods need: host UDP modes need "privileged", all else passes "restricted". */
export function podSecurityLevel(v: ChartValues): 'restricted' | 'privileged' {
  return v.udp.mode === 'hostPort' || v.udp.mode === 'hostNetwork' ? 'privileged' : 'restricted';
}
