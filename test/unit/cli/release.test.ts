import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { plan } from '../../../cli/release/apply.ts';
import { changedKeys, diffReleases, gameServerVersion, sameManifest } from '../../../cli/release/changes.ts';
import { playerEndpoints } from '../../../cli/release/endpoints.ts';
import { chartValues } from '../../../cli/values/view.ts';
import { node } from './fakes.ts';

const deployment = (image: string, replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: mmo-server
  labels:
    app.kubernetes.io/component: game-server
    app.kubernetes.io/version: "${image.split(':')[1]}"
    mmo.dev/track: stable
spec:
  replicas: ${replicas}
  template:
    spec:
      containers:
        - name: server
          image: ${image}${extra}
`;
const service = `apiVersion: v1
kind: Service
metadata:
  name: mmo-server
spec:
  type: ClusterIP
`;

describe('what an upgrade changes', () => {
  it('lists images, replicas, value keys and objects added or removed', () => {
    const before = { manifest: `${deployment('r/mmo:1.4.0', 2)}---\n${service}`, config: { image: { repository: 'r/mmo' }, gameServer: { replicas: 2 } } };
    const after = { manifest: deployment('r/mmo:1.5.0', 3), config: { image: { repository: 'r/mmo', tag: '1.5.0' }, gameServer: { replicas: 3 }, udp: { mode: 'disabled' } } };
    expect(diffReleases(before, after)).toEqual({
      images: [{ workload: 'Deployment/mmo-server', container: 'server', from: 'r/mmo:1.4.0', to: 'r/mmo:1.5.0' }],
      replicas: [{ workload: 'Deployment/mmo-server', from: 2, to: 3 }],
      values: ['gameServer.replicas', 'image.tag', 'udp.mode'],
      added: [],
      removed: ['Service/mmo-server'],
    });
    expect(gameServerVersion(after.manifest)).toBe('1.5.0');
  });

  it('names changed keys by their leaves, dots inside a key escaped as --set writes them', () => {
    expect(changedKeys({ a: { b: 1 } }, { a: { b: 1, c: { d: 2 } }, 'x.y': 1 })).toEqual(['a.c.d', 'x\\.y']);
    expect(changedKeys({ list: [1, 2] }, { list: [1, 3] })).toEqual(['list']);
    expect(changedKeys({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('treats manifests with the same objects in another order or key order as the same', () => {
    const a = `${deployment('r/mmo:1', 2)}---\n${service}`;
    const b = `${service}---\n${deployment('r/mmo:1', 2)}`;
    expect(sameManifest(a, b)).toBe(true);
    expect(sameManifest(a, `${service}---\n${deployment('r/mmo:1', 3)}`)).toBe(false);
  });

  it('plans which objects are created, changed, kept and deleted', () => {
    expect(plan(`${deployment('r/mmo:1', 2)}---\n${service}`, `${deployment('r/mmo:2', 2)}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n`)).toEqual({
      create: ['ConfigMap/c'],
      update: ['Deployment/mmo-server'],
      unchanged: [],
      remove: ['Service/mmo-server'],
    });
  });
});

describe('where players connect', () => {
  const values = (over: object) =>
    chartValues({ udp: { mode: 'nodePort', port: 20000, nodePort: 30500, announce: { addressTypes: ['ExternalIP', 'InternalIP'] } }, ingress: { enabled: false }, ...over } as never);
  const nodes: V1Node[] = [node('a', { addresses: { InternalIP: '10.0.0.1', ExternalIP: '203.0.113.1' } }), node('b', { addresses: { InternalIP: '10.0.0.2' } }), node('c', { addresses: { InternalIP: '10.0.0.3', ExternalIP: '203.0.113.3' } })];
  const gamePods = ['a', 'b'].map((n) => ({ spec: { nodeName: n } }) as V1Pod);
  const lb = (ip?: string): V1Service => ({ metadata: { name: 'mmo-server' }, spec: { type: 'LoadBalancer', ports: [{ port: 8080 }] }, status: { loadBalancer: { ingress: ip ? [{ ip }] : [] } } });

  it('gives the LoadBalancer URL, and the announced address of each node running a game server', () => {
    const e = playerEndpoints(values({}), lb('198.51.100.9'), nodes, gamePods, 'game');
    expect(e.tcp).toEqual(['ws://198.51.100.9:8080/ws']);
    expect(e.udp.addresses).toEqual([{ node: 'a', address: '203.0.113.1' }, { node: 'b', address: '10.0.0.2' }]);
    expect(e.udp.port).toBe(30500);
  });

  it('says when the LoadBalancer has no address yet, and how to reach a ClusterIP Service', () => {
    expect(playerEndpoints(values({}), lb(), nodes, [], 'game').tcpNote).toMatch(/has no address yet/);
    const e = playerEndpoints(values({ udp: { mode: 'disabled', announce: { addressTypes: [] } } }), { metadata: { name: 'mmo-server' }, spec: { type: 'ClusterIP', ports: [{ port: 8080 }] } }, nodes, [], 'game');
    expect(e.tcp).toEqual(['ws://mmo-server.game.svc:8080/ws']);
    expect(e.tcpNote).toMatch(/kubectl -n game port-forward service\/mmo-server 8080/);
    expect(e.udp.note).toBe('off: players use WebSocket only');
  });

  it('prefers the Ingress hosts, over TLS when configured', () => {
    expect(playerEndpoints(values({ ingress: { enabled: true, hosts: ['play.example.com'], tls: [{}] } }), lb('198.51.100.9'), nodes, [], 'game').tcp).toEqual(['wss://play.example.com/ws']);
  });
});
