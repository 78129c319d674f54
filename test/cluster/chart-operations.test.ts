// The operations switches (KEDA, VPA, the Istio mesh, regions and cost) on a real API server. Their
// projects' kinds are registered from the pinned @kubernetes-models packages (test/support/crds.ts):
// structural schemas that prune unknown fields, and refuse them under fieldValidation Strict. Then
// every operations case of the chart matrix passes helm's server-side dry run and installs, with helm
// 3 and helm 4, and the cluster holds each custom object as the chart rendered it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OPERATIONS_API_VERSIONS } from '../../contract/kubernetes.ts';
import { CASES } from '../chart/cases.ts';
import { CHART_DIR, PRESETS_DIR, parseManifests } from '../support/chart.ts';
import { customResourceDefinition, ensureCrds } from '../support/crds.ts';
import type { Manifest } from '../support/k8s-strict.ts';
import { HELM_MAJORS, apiErrorCode, clients, helm, uniqueName } from './kube.ts';
import { ensureMonitoringCrds, freeNodePort, podSecurityNamespace } from './mmo-chart.ts';

const rig = inject('rig');
const admin = clients(rig.kubeconfig);
const custom = admin.kc.makeApiClient(k8s.CustomObjectsApi);
const namespaces: string[] = [];

/** The matrix cases that turn an operations switch on. */
const OPERATIONS_CASES = CASES.filter((c) => /KEDA|VPA|Istio|region/.test(c.name));
/** Custom kinds: the operations switches' and prometheus-operator's (the cost rules, the region's relabelings). */
const CUSTOM_GROUPS = new Set([...OPERATIONS_API_VERSIONS.map((k) => k.split('/')[0]), 'monitoring.coreos.com']);
const isCustomKind = (m: Manifest) => CUSTOM_GROUPS.has(m.apiVersion.split('/')[0]!);

/** Every kind registered from a package: the switches'. */
const REGISTERED = OPERATIONS_API_VERSIONS;

beforeAll(async () => {
  await ensureMonitoringCrds(admin);
  await ensureCrds(admin.kc, REGISTERED);
}, 120_000);

afterAll(async () => {
  await Promise.all(namespaces.map((name) => admin.core.deleteNamespace({ name }).catch(() => {})));
});

async function namespace(prefix: string): Promise<string> {
  const ns = await podSecurityNamespace(admin, uniqueName(prefix), 'restricted');
  namespaces.push(ns);
  return ns;
}

describe("the projects' kinds, registered from their pinned packages", () => {
  it.each(REGISTERED)('%s is served with a structural schema', async (gvk) => {
    const api = admin.kc.makeApiClient(k8s.ApiextensionsV1Api);
    const live = await api.readCustomResourceDefinition({ name: customResourceDefinition(gvk).metadata!.name! });
    const conditions = Object.fromEntries((live.status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions.Established).toBe('True');
    expect(conditions.NonStructuralSchema ?? 'False').toBe('False');
    expect(live.spec.preserveUnknownFields ?? false).toBe(false);
  });

  it('refuses an unknown field under fieldValidation Strict and prunes it otherwise', async () => {
    const ns = await namespace('mmo-crd');
    const body = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'probe' },
      spec: { scaleTargetRef: { name: 'game' }, triggers: [{ type: 'cron', metadata: { timezone: 'UTC', start: '0 19 * * *', end: '0 2 * * *', desiredReplicas: '3' } }], pollingIntervall: 30 },
    };
    const target = { group: 'keda.sh', version: 'v1alpha1', namespace: ns, plural: 'scaledobjects' };
    const refused = await apiErrorCode(custom.createNamespacedCustomObject({ ...target, body, dryRun: 'All', fieldValidation: 'Strict' }));
    expect(refused?.code).toBe(400);
    expect(refused?.message).toContain('unknown field "spec.pollingIntervall"');
    const pruned = (await custom.createNamespacedCustomObject({ ...target, body, dryRun: 'All', fieldValidation: 'Ignore' })) as { spec: Record<string, unknown> };
    expect(pruned.spec).not.toHaveProperty('pollingIntervall');
    // Types and enums are the API server's to check too.
    const badMode = await apiErrorCode(
      custom.createNamespacedCustomObject({
        group: 'autoscaling.k8s.io',
        version: 'v1',
        namespace: ns,
        plural: 'verticalpodautoscalers',
        body: { apiVersion: 'autoscaling.k8s.io/v1', kind: 'VerticalPodAutoscaler', metadata: { name: 'probe' }, spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'game' }, updatePolicy: { updateMode: 'Always' } } },
        dryRun: 'All',
      }),
    );
    expect(badMode?.code).toBe(422);
    expect(badMode?.message).toContain('spec.updatePolicy.updateMode: Unsupported value: "Always"');
  });
});

describe.each(HELM_MAJORS)('helm %i', (major) => {
  const run = (args: string[], timeoutMs = 120_000) => helm(inject('helmPaths')[major], rig.kubeconfig, args, timeoutMs);

  it.each(OPERATIONS_CASES.map((c) => [c.name, c] as const))('%s: passes the server-side dry run, installs, and the cluster holds its custom objects', async (_name, c) => {
    const ns = await namespace(`mmo-ops-h${major}`);
    const dir = await mkdtemp(join(tmpdir(), 'mmo-ops-'));
    const files = await Promise.all((c.values ?? []).map(async (v, i) => {
      const file = join(dir, `values-${i}.json`);
      await writeFile(file, JSON.stringify(v));
      return file;
    }));
    const valueArgs = [...(c.presets ?? []).map((p) => join(PRESETS_DIR, `${p}.yaml`)), ...files].flatMap((f) => ['-f', f]);
    // Node ports are cluster-wide; the migration hook is proven by the install suites (no hooks here).
    const args = ['game', CHART_DIR, '-n', ns, ...valueArgs, '--set', `udp.nodePort=${await freeNodePort(admin)}`, '--no-hooks'];

    const dry = await run(['install', ...args, '--dry-run=server']);
    expect(dry.code, dry.stderr).toBe(0);

    const res = await run(['install', ...args, '--timeout', '90s']);
    await rm(dir, { recursive: true, force: true });
    expect(res.code, res.stderr).toBe(0);
    try {
      const manifest = await run(['get', 'manifest', 'game', '-n', ns]);
      const rendered = parseManifests(manifest.stdout).filter(isCustomKind);
      expect(rendered.length, 'the case renders custom objects').toBeGreaterThan(0);
      for (const m of rendered) {
        const [group, version] = m.apiVersion.split('/') as [string, string];
        const live = (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: `${m.kind.toLowerCase()}s`, name: m.metadata.name })) as { spec: unknown };
        // Nothing was pruned: every field the chart wrote is one the project's schema knows.
        expect(live.spec, `${m.kind}/${m.metadata.name}`).toEqual(m.spec);
      }
    } finally {
      const un = await run(['uninstall', 'game', '-n', ns, '--wait', '--timeout', '60s']);
      expect(un.code, un.stderr).toBe(0);
    }
  });
});
