import { describe, expect, it } from 'vitest';
import { describeDenied, releaseNeeds, type ResourceInfo } from '../../../cli/checks/access.ts';
import type { Manifest } from '../../../cli/manifests.ts';

const obj = (apiVersion: string, kind: string, name: string, namespace?: string): Manifest => ({ apiVersion, kind, metadata: { name, namespace } });
const resources = new Map<string, ResourceInfo>([
  ['apps/v1/Deployment', { group: 'apps', plural: 'deployments', namespaced: true }],
  ['rbac.authorization.k8s.io/v1/ClusterRole', { group: 'rbac.authorization.k8s.io', plural: 'clusterroles', namespaced: false }],
]);

describe('the permissions a release needs', () => {
  const needs = releaseNeeds([obj('apps/v1', 'Deployment', 'mmo-server', 'game'), obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'node-reader'), obj('example.com/v1', 'Unknown', 'x', 'game')], 'game', resources, { createNamespace: true });

  it('covers every verb helm uses on each kind of the release, in its namespace or cluster-wide', () => {
    const ids = needs.map((n) => `${n.verb} ${n.group}/${n.resource} ${n.namespace ?? '*'}`);
    for (const verb of ['get', 'create', 'patch', 'delete']) {
      expect(ids).toContain(`${verb} apps/deployments game`);
      expect(ids).toContain(`${verb} rbac.authorization.k8s.io/clusterroles *`);
    }
    expect(ids).toContain('create /namespaces *');
    expect(ids).toContain('update /secrets game');
    expect(ids).toContain('watch /pods game');
    // Kinds the cluster does not serve are the CRD check's to report.
    expect(ids.some((i) => i.includes('example.com'))).toBe(false);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('says what is denied, once per permission, with why the release needs it', () => {
    const answers = needs.map((n) => ({ ...n, allowed: !(n.resource === 'clusterroles' && n.verb === 'create') && n.verb !== 'watch' }));
    expect(describeDenied(answers)).toEqual([
      'create clusterroles.rbac.authorization.k8s.io (cluster-wide): the release holds ClusterRole/node-reader',
      'watch deployments.apps in namespace game: --wait watches workloads until they are ready',
      'watch replicasets.apps in namespace game: --wait watches workloads until they are ready',
      'watch statefulsets.apps in namespace game: --wait watches workloads until they are ready',
      'watch pods in namespace game: --wait watches workloads until they are ready',
      'watch jobs.batch in namespace game: --wait watches workloads until they are ready',
      'watch services in namespace game: --wait watches workloads until they are ready',
      'watch persistentvolumeclaims in namespace game: --wait watches workloads until they are ready',
    ]);
  });
});
