import { describe, expect, it } from 'vitest';
import { rigCacheDir, stagingModules, stagingTag } from '../../scripts/rig/build.ts';

const goMod = `module k8s.io/kubernetes

go 1.26.0

require (
	github.com/blang/semver/v4 v4.0.0
	go.etcd.io/etcd/client/v3 v3.6.8
	k8s.io/api v0.0.0
	k8s.io/apiserver v0.0.0 // staging
	k8s.io/klog/v2 v2.140.0
	k8s.io/kube-openapi v0.0.0-20260317180543-43fb72c5454a
)

require k8s.io/kubectl v0.0.0

require (
	k8s.io/kms v0.0.0 // indirect
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/fake v0.0.0 => ./staging/src/k8s.io/fake
)
`;

describe('rig build: wrapper module generation', () => {
  it('finds exactly the k8s.io modules required at the v0.0.0 placeholder', () => {
    expect(stagingModules(goMod)).toEqual(['k8s.io/api', 'k8s.io/apiserver', 'k8s.io/kms', 'k8s.io/kubectl']);
  });

  it.each([
    ['v1.36.3', 'v0.36.3'],
    ['v1.34.0', 'v0.34.0'],
  ])('maps Kubernetes %s to the staging tag %s', (k, tag) => {
    expect(stagingTag(k)).toBe(tag);
  });

  it('refuses a version that is not a v1.x.y release', () => {
    expect(() => stagingTag('1.36.3')).toThrow(/v1\.<minor>\.<patch>/);
    expect(() => stagingTag('v1.36.3-rc.0')).toThrow(/got "v1\.36\.3-rc\.0"/);
  });

  it('keys the cache directory by every component version', () => {
    const a = rigCacheDir({ kubernetes: 'v1.36.3', etcd: 'v3.6.16', kwok: 'v0.8.0' });
    const b = rigCacheDir({ kubernetes: 'v1.36.3', etcd: 'v3.6.15', kwok: 'v0.8.0' });
    expect(a).not.toBe(b);
    expect(a).toContain('k8s-v1.36.3');
  });
});
