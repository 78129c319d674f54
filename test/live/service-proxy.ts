/**
 * What kube-proxy does for a ClusterIP Service, for bots on this machine: a TCP listener on loopback
 * that sends each new connection to the next ready endpoint of the Service (round robin, read from
 * its EndpointSlices every 300 ms), so new players spread over the ready pods — a canary takes its
 * share by replica count, a draining pod gets none. Session affinity is not emulated (all bots come
 * from one address, which ClientIP affinity would pin to one pod).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { splice } from '../../scripts/rig/live/forward.ts';
import type { clients } from '../cluster/kube.ts';
import { readyEndpoints } from './live-release.ts';

export interface ServiceProxy {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Connections sent to each pod so far. */
  readonly sent: Map<string, number>;
  close(): Promise<void>;
}

export async function startServiceProxy(admin: ReturnType<typeof clients>, namespace: string, service: string, port: number): Promise<ServiceProxy> {
  let endpoints: { ip: string; pod: string }[] = [];
  let next = 0;
  const sent = new Map<string, number>();
  const refresh = async () => {
    endpoints = (await readyEndpoints(admin, namespace, service).catch(() => endpoints)).sort((a, b) => a.ip.localeCompare(b.ip));
  };
  await refresh();
  const timer = setInterval(() => void refresh(), 300);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const target = endpoints.length ? endpoints[next++ % endpoints.length]! : undefined;
    if (!target) {
      client.destroy();
      return;
    }
    sent.set(target.pod, (sent.get(target.pod) ?? 0) + 1);
    const upstream = splice(client, { host: target.ip, port });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    sent,
    close: async () => {
      clearInterval(timer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
