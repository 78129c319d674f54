// What people and machines read: human output pinned by golden files (plain style), every document
// checked against cli/schemas/mmoctl.schema.json, and each error mapped to its exit code.
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../contract/exit-codes.ts';
import { classify } from '../../../cli/base-command.ts';
import { preflightDocument, renderPreflight, type PreflightReport } from '../../../cli/checks/report.ts';
import { FailedError, InvalidInputError } from '../../../cli/errors.ts';
import { HelmError } from '../../../cli/helm/helm.ts';
import { KubeError } from '../../../cli/kube/kube.ts';
import type { ApplyResult } from '../../../cli/release/apply.ts';
import { renderApply, renderHistory } from '../../../cli/release/render.ts';
import { document, errorDocument } from '../../../cli/ui/output.ts';
import { renderError } from '../../../cli/ui/problems.ts';
import { PLAIN } from '../../../cli/ui/style.ts';
import { assertDocument } from '../../support/cli.ts';
import { golden } from './golden.ts';

const hint = (id: string) => `https://github.com/mmoctl/mmoctl/blob/main/docs/checks.md#${id.replace('.', '-')}`;
const REPORT: PreflightReport = {
  release: 'mmo',
  namespace: 'game',
  durationMs: 1432,
  summary: { pass: 3, warn: 1, fail: 1, skip: 1 },
  results: [
    { id: 'helm.version', category: 'tools', description: 'helm is installed and supported (3.14+ or 4.x)', status: 'pass', message: 'v3.18.0 at /usr/local/bin/helm', hint: hint('helm.version'), durationMs: 40 },
    { id: 'cluster.api', category: 'cluster', description: 'the Kubernetes API server answers', status: 'pass', message: 'https://k8s.example.com (context prod), Kubernetes v1.33.2', hint: hint('cluster.api'), durationMs: 60 },
    { id: 'cluster.namespace', category: 'cluster', description: 'the namespace exists, or will be created', status: 'pass', hint: hint('cluster.namespace'), durationMs: 12 },
    { id: 'rbac.read', category: 'permissions', description: 'you may read what status and these checks read (nodes, pods and Services cluster-wide)', status: 'warn', message: 'the capacity and UDP checks and parts of `mmoctl status` need these and will be skipped: list nodes (cluster-wide)', hint: hint('rbac.read'), durationMs: 30 },
    { id: 'capacity.fit', category: 'capacity', description: 'the nodes have room for the release (its pods, one rollout surge pod, next to what already runs)', status: 'fail', message: '1 pod would not be scheduled:\n  - Deployment/mmo-server (1 pod): it needs a node of its own (one game server per node) and all 3 eligible nodes are taken', hint: hint('capacity.fit'), durationMs: 80 },
    { id: 'udp.addresses', category: 'udp', description: 'the nodes have the address the game servers announce to UDP players', status: 'skip', message: 'udp.mode is disabled: no node address is announced', hint: hint('udp.addresses'), durationMs: 0 },
  ],
};

const INSTALLED: ApplyResult = {
  action: 'installed',
  release: 'mmo',
  namespace: 'game',
  revision: 1,
  status: 'deployed',
  chart: 'mmo-0.2.0',
  appVersion: '1.4.0',
  namespaceState: { name: 'game', created: true, podSecurity: 'restricted' },
  preflight: { summary: { pass: 14, warn: 1, fail: 0, skip: 2 }, warnings: ['the IngressClass of the Ingress exists: ingress.className is empty and no IngressClass is the default'] },
  verification: { ok: true, workloads: [{ kind: 'Deployment', name: 'mmo-server', desired: 2, ready: 2, updated: 2, ok: true }], services: [{ name: 'mmo-server', type: 'LoadBalancer', readyEndpoints: 2, ok: true }], test: { ok: true, output: 'Phase: Succeeded' }, problems: [] },
  endpoints: { tcp: ['ws://198.51.100.7:8080/ws'], udp: { mode: 'nodePort', port: 30000, addresses: [{ node: 'node-a', address: '203.0.113.11' }, { node: 'node-b', address: '203.0.113.12' }], note: 'players send to port 30000/UDP of the node running their game server (announced as its ExternalIP address); open it in the nodes\' firewall' } },
  steps: [{ title: 'Values are valid (profile production)', status: 'done', durationMs: 410 }],
};

const UPGRADED: ApplyResult = {
  ...INSTALLED,
  action: 'upgraded',
  appVersion: '1.5.0',
  revision: 4,
  previousRevision: 3,
  namespaceState: { name: 'game', created: false, podSecurity: 'restricted' },
  preflight: { summary: { pass: 15, warn: 0, fail: 0, skip: 2 }, warnings: [] },
  changes: { images: [{ workload: 'Deployment/mmo-server', container: 'server', from: 'registry.example.com/mmo:1.4.0', to: 'registry.example.com/mmo:1.5.0' }], replicas: [{ workload: 'Deployment/mmo-server', from: 2, to: 3 }], values: ['gameServer.replicas', 'image.tag'], added: [], removed: [] },
};

describe('human output', () => {
  it('preflight: checks grouped by category, what failed or warned with its reason and hint, then the summary', () => golden('preflight', renderPreflight(REPORT, PLAIN)));
  it('install: the revision, warnings, where players connect and what to run next', () => golden('install', `${renderApply(INSTALLED, PLAIN, '-n game')}\n`));
  it('upgrade: what changed — images, replicas, values', () => golden('upgrade', `${renderApply(UPGRADED, PLAIN, '')}\n`));
  it('history: one line per revision with the game server version it ran', () =>
    golden(
      'history',
      `${renderHistory(
        [
          { revision: 1, updated: '2026-12-04T13:42:04.113467565Z', status: 'superseded', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: 'mmoctl install', gameServer: '1.4.0' },
          { revision: 2, updated: '2026-12-04T14:02:11.000000000Z', status: 'failed', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: 'Upgrade "mmo" failed: context deadline exceeded', gameServer: '1.5.0' },
          { revision: 3, updated: '2026-12-04T14:03:40.000000000Z', status: 'deployed', chart: 'mmo-0.2.0', appVersion: '0.2.0', description: 'Rollback to 1', gameServer: '1.4.0' },
        ],
        PLAIN,
      )}\n`,
    ));
  it('errors: every problem with its key, where it was written and a fix', () =>
    golden(
      'values-error',
      renderError('The values are not valid (2 problems); nothing was sent to the cluster.', 'Every value is described in docs/values.md.', [
        { key: 'udp.mode', source: 'studio.yaml:7:9', message: 'expected one of "nodePort", "hostPort", "hostNetwork", "relay", "disabled", got "hostport"', fix: '--set udp.mode=nodePort' },
        { key: 'gameServer.config.patchRate', source: '--set gameServer.config.patchRate=50', message: 'gameServer.config.patchRate (50) is above gameServer.config.tickRate (20): there is nothing new to send between ticks', fix: '--set gameServer.config.patchRate=20' },
      ], PLAIN),
    ));
});

describe('machine output', () => {
  it.each([
    ['PreflightReport', preflightDocument(REPORT)],
    ['InstallResult', document('InstallResult', INSTALLED)],
    ['UpgradeResult', document('UpgradeResult', UPGRADED)],
    ['Error', errorDocument(EXIT.invalidInput, 'bad', 'hint', [{ key: 'a', message: 'b' }])],
  ])('%s matches its documented schema', (_kind, doc) => {
    expect(() => assertDocument(JSON.parse(JSON.stringify(doc)))).not.toThrow();
  });

  it('the schema check fails a document that breaks its shape', () => {
    expect(() => assertDocument({ ...preflightDocument(REPORT), summary: { pass: 'many' } })).toThrow(/PreflightReport does not match its schema/);
    expect(() => assertDocument(document('Nonsense', {}))).toThrow(/no definition/);
  });
});

describe('exit codes', () => {
  it.each([
    ['invalid input', new InvalidInputError('bad flag'), EXIT.invalidInput],
    ['a failed check or operation', new FailedError('no'), EXIT.failed],
    ['an unreachable cluster', new KubeError(0, 'ECONNREFUSED', 'cannot list pods: not reachable'), EXIT.failed],
    ['expired credentials', new KubeError(401, 'Unauthorized', 'cannot list pods: Unauthorized'), EXIT.failed],
    ['a helm failure', new HelmError('UPGRADE FAILED: timed out', ['upgrade'], 1), EXIT.failed],
    ['a bug', new TypeError('x is undefined'), EXIT.unexpected],
  ])('%s ends with its exit code', (_what, err, code) => {
    expect(classify(err).exitCode).toBe(code);
  });

  it('tells expired credentials from an unreachable cluster, with what to do', () => {
    expect(classify(new KubeError(401, 'Unauthorized', 'cannot list pods: Unauthorized')).hint).toMatch(/refused the credentials.*log in again/i);
    expect(classify(new KubeError(0, 'ENOTFOUND', 'cannot list pods: not reachable')).hint).toMatch(/Is the cluster running/);
    expect(classify(new KubeError(403, 'Forbidden', 'cannot list pods: forbidden')).hint).toMatch(/lacks a permission/);
    expect(classify(new HelmError('UPGRADE FAILED: x', ['upgrade'], 1)).message).toBe('helm upgrade failed: UPGRADE FAILED: x');
  });
});
