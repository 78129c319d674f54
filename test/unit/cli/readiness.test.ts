// Readiness as status and the post-install verification both read it: a rollout is done when every
// pod runs the current template; a Service's ready endpoints are counted once each.
import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1EndpointSlice } from '@kubernetes/client-node';
import { countEndpoints, deploymentRolledOut } from '../../../cli/kube/readiness.ts';

const deployment = (status: V1Deployment['status'], generation = 2): V1Deployment => ({ metadata: { name: 'd', generation }, spec: { replicas: 2, selector: {}, template: {} }, status });

describe('readiness', () => {
  it.each<[string, V1Deployment, boolean]>([
    ['every pod on the current template', deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2 }), true],
    ['a crashed pod is not a rollout', deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1 }), true],
    ['old pods still running beside the new ones', deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 3 }), false],
    ['the controller has not seen the latest change', deployment({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2 }), false],
    ['nothing reported yet', deployment(undefined), false],
  ])('a Deployment with %s: rolled out %s', (_what, d, done) => {
    expect(deploymentRolledOut(d)).toBe(done);
  });

  it('counts an endpoint once when dual-stack slices both list it, and unset readiness as ready', () => {
    const slice = (family: string, endpoints: V1EndpointSlice['endpoints']): V1EndpointSlice => ({ addressType: family, metadata: { labels: { 'kubernetes.io/service-name': 'game' } }, endpoints });
    const ep = (pod: string, address: string, ready?: boolean) => ({ addresses: [address], conditions: ready === undefined ? {} : { ready }, targetRef: { kind: 'Pod', name: pod } });
    const slices = [slice('IPv4', [ep('a', '10.0.0.1', true), ep('b', '10.0.0.2', false), ep('c', '10.0.0.3')]), slice('IPv6', [ep('a', 'fd00::1', true), ep('b', 'fd00::2', false)])];
    expect(countEndpoints('game', slices)).toEqual({ ready: 2, notReady: 1 });
    expect(countEndpoints('other', slices)).toEqual({ ready: 0, notReady: 0 });
    expect(countEndpoints('game', null)).toBeNull();
  });
});
