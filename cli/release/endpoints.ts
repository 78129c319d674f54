/**
 * Where players connect once a release runs: the TCP URL (WebSocket `/ws`, also WebRTC signalling)
 * through the Ingress, the LoadBalancer, node ports or — inside the cluster only — the Service; and
 * the UDP address and port per the UDP mode (the node running the player's game server).
 */
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { LABELS, COMPONENTS } from '../../contract/labels.ts';
import { PATHS } from '../../contract/ports.ts';
import type { ChartValues } from '../values/view.ts';
import { udpPerNode, udpPlayerPort } from '../values/view.ts';

export interface PlayerEndpoints {
  /** WebSocket URLs players use (empty while a LoadBalancer has no address yet). */
  readonly tcp: readonly string[];
  /** What to do when `tcp` is empty, or how to reach an in-cluster-only Service. */
  readonly tcpNote?: string;
  readonly udp: {
    readonly mode: string;
    readonly port?: number;
    /** Node addresses game servers announce, with the node's name. */
    readonly addresses: readonly { readonly node: string; readonly address: string }[];
    readonly note: string;
  };
}

/** Pure: the endpoints from the game Service, the nodes, the game server pods and the values. */
export function playerEndpoints(v: ChartValues, service: V1Service | undefined, nodes: readonly V1Node[], gamePods: readonly V1Pod[], namespace: string): PlayerEndpoints {
  const ws = PATHS.websocket;
  const tcp: string[] = [];
  let tcpNote: string | undefined;
  if (v.ingress.enabled && v.ingress.hosts?.length) {
    const scheme = v.ingress.tls?.length ? 'wss' : 'ws';
    for (const h of v.ingress.hosts) tcp.push(`${scheme}://${h}${ws}`);
  } else if (service?.spec?.type === 'LoadBalancer') {
    for (const i of service.status?.loadBalancer?.ingress ?? []) tcp.push(`ws://${i.hostname ?? i.ip}:${service.spec.ports?.[0]?.port}${ws}`);
    if (!tcp.length) tcpNote = `the LoadBalancer Service ${service.metadata?.name} has no address yet; \`mmoctl status\` shows it once the cloud assigns one`;
  } else if (service?.spec?.type === 'NodePort') {
    const port = service.spec.ports?.[0]?.nodePort;
    for (const n of nodes) {
      const a = n.status?.addresses?.find((x) => x.type === 'ExternalIP') ?? n.status?.addresses?.find((x) => x.type === 'InternalIP');
      if (a) tcp.push(`ws://${a.address}:${port}${ws}`);
    }
  } else if (service) {
    const port = service.spec?.ports?.[0]?.port;
    tcp.push(`ws://${service.metadata?.name}.${namespace}.svc:${port}${ws}`);
    tcpNote = `inside the cluster only (service.type ClusterIP); from your machine: kubectl -n ${namespace} port-forward service/${service.metadata?.name} ${port}`;
  }
  const mode = v.udp.mode;
  if (!udpPerNode(mode)) {
    const note = mode === 'disabled' ? 'off: players use WebSocket only' : 'players reach the game servers through the TURN relay in udp.iceServers';
    return { tcp, tcpNote, udp: { mode, addresses: [], note } };
  }
  const port = udpPlayerPort(v);
  const onNodes = new Set(gamePods.map((p) => p.spec?.nodeName).filter(Boolean));
  const addresses = nodes
    .filter((n) => onNodes.has(n.metadata?.name))
    .flatMap((n) => {
      for (const type of v.udp.announce.addressTypes) {
        const a = n.status?.addresses?.find((x) => x.type === type);
        if (a) return [{ node: n.metadata!.name!, address: a.address }];
      }
      return [];
    });
  return {
    tcp,
    tcpNote,
    udp: { mode, port, addresses, note: `players send to port ${port}/UDP of the node running their game server (announced as its ${v.udp.announce.addressTypes.join(' or ')} address); open it in the nodes' firewall` },
  };
}

/** The label selector of the release's game server pods (both tracks). */
export function gameServerSelector(release: string): string {
  return `${LABELS.instance}=${release},${LABELS.component}=${COMPONENTS.gameServer}`;
}
