/**
 * What a live rig records in its state file and where its parts keep their files, shared by `up`
 * and `down` (rig.ts) and the live rig's own processes (kubelet, prometheus-operator).
 */
import { join } from 'node:path';
import { serviceUrls, type ServiceName, type ServiceUrls } from '../../services/services.ts';
import type { NetworkPlan } from './network.ts';

/** The `live` part of the rig's state.json. */
export interface LiveState {
  readonly plan: NetworkPlan;
  /** Where pods reach the API server: a forwarder on the bridge (KUBERNETES_SERVICE_HOST/PORT). */
  readonly apiServerInPod: { readonly host: string; readonly port: number };
  /** Prometheus' loopback port. */
  readonly prometheusPort: number;
  /**
   * The portmap plugin's nat chains existed when this rig came up (another rig's, or another
   * runtime's): `down` leaves them. Else `down` removes them once no mapping is left in them.
   */
  readonly portmapChainsBefore: boolean;
}

/** The data services pods reach on the bridge's host address, each on its usual port. */
export const SERVICE_FORWARDS = [
  { service: 'PostgreSQL', name: 'postgres', port: 5432, urlVariable: 'DATABASE_URL' },
  { service: 'Redis', name: 'redis', port: 6379, urlVariable: 'REDIS_URL' },
  { service: 'RabbitMQ', name: 'rabbitmq', port: 5672, urlVariable: 'AMQP_URL' },
] as const satisfies readonly { service: string; name: ServiceName; port: number; urlVariable: keyof ServiceUrls }[];

/** The URLs of this checkout's data services as pods of the live rig reach them. */
export function inPodServiceUrls(plan: NetworkPlan): ServiceUrls {
  const at = (name: ServiceName) => ({ host: plan.hostAddress, port: SERVICE_FORWARDS.find((f) => f.name === name)!.port });
  return serviceUrls({ postgres: at('postgres'), redis: at('redis'), rabbitmq: at('rabbitmq') });
}

/** Files of the live parts of the rig in `stateDir`. */
export function liveFiles(stateDir: string) {
  return {
    kubeletKubeconfig: join(stateDir, 'kubeconfig', 'kubelet'),
    prometheusDir: join(stateDir, 'prometheus'),
    prometheusConfig: join(stateDir, 'prometheus', 'prometheus.yml'),
    /** What the operator made of each ServiceMonitor: accepted or refused with the reason. */
    serviceMonitors: join(stateDir, 'prometheus', 'servicemonitors.json'),
    podsDir: join(stateDir, 'pods'),
  };
}
