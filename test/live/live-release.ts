/**
 * The mmo chart on the live rig: the values that make its game servers run as processes (the pod
 * label `mmo.dev/rig-run=process`) against this checkout's real PostgreSQL, Redis and RabbitMQ (the
 * chart's external data services, reached on the rig's bridge), with the ServiceMonitor on so the
 * rig's Prometheus scrapes them; and what tests read back: ready endpoints, pods, metrics.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import type { LiveRigInfo } from '../../scripts/rig/live/live.ts';
import { eventually, type clients } from '../cluster/kube.ts';

type Clients = ReturnType<typeof clients>;

/** The Secrets holding the data services' URLs as pods reach them (external.existingSecret of each). */
export async function serviceSecrets(admin: Clients, namespace: string, live: LiveRigInfo): Promise<void> {
  const urls = { postgres: live.services.DATABASE_URL, redis: live.services.REDIS_URL, rabbitmq: live.services.AMQP_URL };
  for (const [name, url] of Object.entries(urls)) {
    await admin.core.createNamespacedSecret({ namespace, body: { metadata: { name: `live-${name}` }, stringData: { url } } });
  }
}

/** Values for a release whose game servers run as processes on the live rig. */
export function liveValues(live: LiveRigInfo, opts: { replicas: number; extra?: Record<string, unknown> }): Record<string, unknown> {
  const external = (name: string, port: number) => ({
    enabled: false,
    external: { host: live.hostAddress, port, existingSecret: `live-${name}`, existingSecretKey: 'url', cidrs: [`${live.hostAddress}/32`] },
  });
  return {
    gameServer: {
      replicas: opts.replicas,
      podLabels: { 'mmo.dev/rig-run': 'process' },
      pdb: { enabled: false },
      // Fewer snapshots per player: hundreds of bots and the servers share 2 cores here.
      config: { patchRate: 5 },
    },
    postgres: external('postgres', 5432),
    redis: external('redis', 6379),
    rabbitmq: external('rabbitmq', 5672),
    networkPolicy: { apiServerCIDRs: [`${live.hostAddress}/32`] },
    monitoring: { serviceMonitor: { enabled: true, interval: '2s', scrapeTimeout: '1s' } },
    ...opts.extra,
  };
}

/** Writes values to a file under .tmp/ for `-f`; returns its path. */
export function valuesFile(name: string, values: Record<string, unknown>): string {
  const dir = join(PROJECT_ROOT, '.tmp', 'live-values');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

/** Ready addresses of a Service's EndpointSlices. */
export async function readyEndpoints(admin: Clients, namespace: string, service: string): Promise<{ ip: string; pod: string }[]> {
  const discovery = admin.kc.makeApiClient(k8s.DiscoveryV1Api);
  const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return slices.items.flatMap((s) =>
    (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses.map((ip) => ({ ip, pod: e.targetRef?.name ?? '' }))),
  );
}

/** Waits until the game server pods matching `selector` are `count` and all Ready; returns them. */
export async function readyPods(admin: Clients, namespace: string, selector: string, count: number, timeoutMs = 90_000): Promise<k8s.V1Pod[]> {
  return eventually(`${count} ready pods (${selector}) in ${namespace}`, async () => {
    const pods = (await admin.core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return pods.length === count && ready.length === count ? pods : undefined;
  }, timeoutMs);
}
