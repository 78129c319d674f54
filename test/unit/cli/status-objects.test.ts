// What status reads from single objects: helm's manifest scanned without parsing it whole, and a pod's
// state in one word.
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { podState, podWorkload, scanManifest } from '../../../cli/status/objects.ts';

const MANIFEST = `---
# Source: mmo/templates/server-configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: game-mmo-server
data:
  LOG_LEVEL: "info"
---
# Source: mmo/templates/server-deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: game-mmo-server
  namespace: game
  labels:
    app.kubernetes.io/component: game-server
    mmo.dev/track: stable

spec:
  replicas: 2
---
apiVersion: v1
kind: "Service"
metadata: {name: game-mmo-server, labels: {app.kubernetes.io/component: game-server}}
spec:
  ports: [{name: game, port: 8080}]
`;

describe('status reads from objects', () => {
  it('scans a manifest for the kinds it asks about, by their metadata alone', () => {
    const found = scanManifest(MANIFEST, new Set(['Deployment', 'Service']));
    expect(found.map((m) => [m.kind, m.name, m.labels['app.kubernetes.io/component']])).toEqual([
      ['Deployment', 'game-mmo-server', 'game-server'],
      ['Service', 'game-mmo-server', 'game-server'],
    ]);
    expect(found[0]!.labels['mmo.dev/track']).toBe('stable');
    expect(found[1]!.object<{ spec: { ports: { port: number }[] } }>().spec.ports[0]!.port).toBe(8080);
  });

  const pod = (status: V1Pod['status'], extra: Partial<V1Pod> = {}): V1Pod => ({ metadata: { name: 'p' }, status, ...extra });

  it.each<[string, V1Pod, string, string | null]>([
    ['a running, ready pod', pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), 'Running', null],
    ['an unschedulable pod', pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] }), 'Unschedulable', '0/3 nodes are available'],
    ['a pod waiting on its init container', pod({ phase: 'Pending', initContainerStatuses: [{ name: 'migrate', image: 'i', imageID: '', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } } }] }), 'CrashLoopBackOff', 'back-off'],
    ['a pod that cannot pull', pod({ phase: 'Pending', containerStatuses: [{ name: 'server', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } }] }), 'ImagePullBackOff', 'not found'],
    ['a running pod that is not ready', pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False', message: 'containers with unready status: [server]' }] }), 'NotReady', 'containers with unready status: [server]'],
    ['a pod being deleted', pod({ phase: 'Running' }, { metadata: { name: 'p', deletionTimestamp: new Date() } }), 'Terminating', null],
  ])('says %s is %s', (_what, p, state, message) => {
    expect(podState(p)).toEqual({ state, message });
  });

  it('finds the Deployment of a pod through its ReplicaSet, and the StatefulSet directly', () => {
    expect(podWorkload({ metadata: { labels: { 'pod-template-hash': '5d8f9c7b6' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'game-mmo-server-5d8f9c7b6', uid: 'u', controller: true }] } })).toBe('game-mmo-server');
    expect(podWorkload({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'game-mmo-redis', uid: 'u', controller: true }] } })).toBe('game-mmo-redis');
    expect(podWorkload({ metadata: {} })).toBeNull();
  });
});
