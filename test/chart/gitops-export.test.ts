// `mmoctl gitops export` with the real helm 3 and 4: what Argo CD renders from the exported chart and
// values file (`helm template` of the folder, as Argo CD runs it) is exactly what `mmoctl template`
// renders for the same inputs plus the GitOps switch; the Application is valid against Argo CD's own
// CRD (v3.5.1) and @kubernetes-models/argo-cd; values a GitOps render cannot keep are refused
// naming the keys, and nothing is written then.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXIT } from '../../contract/exit-codes.ts';
import { overrides } from '../../cli/gitops/export.ts';
import { assertDocument, json, mmoctl } from '../support/cli.ts';
import { parseManifests, runHelm } from '../support/chart.ts';
import { manifestProblems, type Manifest } from '../support/k8s-strict.ts';

const SECRETS = ['gameServer.auth.existingSecret=mmo-auth', 'gameServer.admin.existingSecret=mmo-admin', 'postgres.auth.existingSecret=pg', 'redis.auth.existingSecret=rd', 'rabbitmq.auth.existingSecret=mq'].flatMap((s) => ['--set', s]);
const REPO = ['--repo-url', 'https://git.example.com/studio/deploy.git', '--path', 'clusters/eu/mmo'];
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmoctl-gitops-'));
  await writeFile(join(dir, 'studio.yaml'), 'gameServer:\n  config:\n    tickRate: 30\n    patchRate: 15\nbackup:\n  pgDump:\n    enabled: true\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each([3, 4] as const)('helm %i', (major) => {
  const helm = () => inject('helmPaths')[major];

  it('writes a chart and values file from which helm template (as Argo CD runs it) renders what mmoctl template renders', async () => {
    const out = join(dir, `repo-h${major}`);
    const inputs = ['--profile', 'production', '-f', join(dir, 'studio.yaml'), '--version', '1.4.0', ...SECRETS];
    const res = await mmoctl(['gitops', 'export', ...inputs, ...REPO, '-n', 'game', '--release', 'eu', '--out', out, '--create-namespace', '--auto-sync', '-o', 'json'], { helm: helm() });
    expect(res.code, res.stderr).toBe(EXIT.ok);
    const doc = json(res) as { application: { file: string }; chartDir: string; valuesFile: string; manifest: Manifest };
    assertDocument(doc);
    expect(doc.chartDir).toBe(join(out, 'clusters/eu/mmo'));
    expect(doc.valuesFile).toBe(join(out, 'clusters/eu/mmo/values-eu.yaml'));
    const values = parse(await readFile(doc.valuesFile, 'utf8')) as Record<string, any>;
    expect(values.gameServer.autoscaling.setReplicas).toBe(false);
    expect(values.image).toEqual({ tag: '1.4.0' });
    expect(values.gameServer.config).toMatchObject({ tickRate: 30, patchRate: 15 });

    const app = parse(await readFile(doc.application.file, 'utf8')) as Manifest & { spec: Record<string, any> };
    expect(app).toEqual(doc.manifest);
    expect(app.spec.source).toEqual({ repoURL: 'https://git.example.com/studio/deploy.git', targetRevision: 'HEAD', path: 'clusters/eu/mmo', helm: { releaseName: 'eu', valueFiles: ['values-eu.yaml'], skipTests: true } });
    expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'game' });
    expect(app.spec.syncPolicy).toEqual({ automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'], managedNamespaceMetadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' } } });
    expect(await manifestProblems(app)).toEqual([]);

    // Argo CD: helm template <release> <path> -f <valueFiles> with the cluster's kinds, tests skipped.
    const kinds = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'].flatMap((k) => ['--api-versions', k]);
    const argo = await runHelm(helm(), ['template', 'eu', doc.chartDir, '-n', 'game', '-f', doc.valuesFile, '--kube-version', '1.33.0', '--skip-tests', ...kinds]);
    expect(argo.code, argo.stderr).toBe(0);
    const mine = await mmoctl(['template', ...inputs, '--set', 'gameServer.autoscaling.setReplicas=false', '-n', 'game', '--release', 'eu', '--skip-tests', ...kinds], { helm: helm() });
    expect(mine.code, mine.stderr).toBe(0);
    const strip = (text: string) => parseManifests(text).map((m) => JSON.stringify(m)).sort();
    expect(strip(argo.stdout)).toEqual(strip(mine.stdout));
    // The autoscaler alone owns the game servers' replicas.
    const server = parseManifests(argo.stdout).find((m) => m.kind === 'Deployment' && m.metadata.name === 'eu-mmo-server') as unknown as { spec: Record<string, unknown> };
    expect(server.spec).not.toHaveProperty('replicas');
  });

  it('refuses credentials a GitOps render would generate anew on every sync, naming each key (exit 2), and writes nothing', async () => {
    const out = join(dir, `refused-h${major}`);
    const res = await mmoctl(['gitops', 'export', '--profile', 'staging', ...REPO, '--out', out, '-o', 'json'], { helm: helm() });
    expect(res.code).toBe(EXIT.invalidInput);
    const keys = (json(res) as { error: { problems: { key?: string }[] } }).error.problems.map((p) => p.key);
    expect(keys.sort()).toEqual(['gameServer.admin.existingSecret', 'gameServer.auth.existingSecret', 'postgres.auth.existingSecret', 'rabbitmq.auth.existingSecret', 'redis.auth.existingSecret']);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the export folder', () => {
  it('replaces an earlier export whole, and refuses a folder holding something else', async () => {
    const helm = inject('helmPaths')[4];
    const out = join(dir, 'again');
    const args = ['gitops', 'export', ...SECRETS, ...REPO, '--out', out];
    expect((await mmoctl(args, { helm })).code).toBe(EXIT.ok);
    await writeFile(join(out, 'clusters/eu/mmo/templates/stale.yaml'), 'kind: Stale\n');
    expect((await mmoctl(args, { helm })).code).toBe(EXIT.ok);
    expect(await readdir(join(out, 'clusters/eu/mmo/templates'))).not.toContain('stale.yaml');
    const other = join(dir, 'other');
    await mmoctl(['gitops', 'export', ...SECRETS, '--repo-url', 'https://git.example.com/x.git', '--path', 'apps', '--out', other], { helm }).then((r) => expect(r.code).toBe(0));
    await writeFile(join(other, 'apps', 'Chart.yaml'), 'apiVersion: v2\nname: shop\nversion: 1.0.0\n');
    const res = await mmoctl(['gitops', 'export', ...SECRETS, '--repo-url', 'https://git.example.com/x.git', '--path', 'apps', '--out', other], { helm });
    expect(res.code).toBe(EXIT.invalidInput);
    expect(res.stderr).toContain('holds something other than this chart; nothing was written');
  });

  it('refuses a path that leaves the repository and a repository that is no URL (exit 2)', async () => {
    const helm = inject('helmPaths')[4];
    for (const bad of [['--path', '../mmo'], ['--path', '/abs'], ['--repo-url', 'deploy']]) {
      const args = ['gitops', 'export', ...SECRETS, ...REPO, ...bad, '--out', join(dir, 'bad')];
      const res = await mmoctl(args, { helm });
      expect(res.code, bad.join(' ')).toBe(EXIT.invalidInput);
    }
  });
});

describe('the Application check (Argo CD v3.5.1 CRD and @kubernetes-models/argo-cd)', () => {
  const app = (spec: Record<string, unknown>): Manifest => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'a', namespace: 'argocd' }, spec } as Manifest);
  const good = { project: 'default', source: { repoURL: 'https://x', path: 'mmo' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'game' } };
  it('accepts a valid one and refuses a misspelt field, a wrong type and a missing destination', async () => {
    expect(await manifestProblems(app(good))).toEqual([]);
    expect(await manifestProblems(app({ ...good, sauce: {} }))).toEqual([expect.stringContaining('(sauce)')]);
    expect((await manifestProblems(app({ ...good, source: { ...good.source, helm: { valueFiles: 'values.yaml' } } }))).join('\n')).toMatch(/valueFiles: must be array/);
    expect((await manifestProblems(app({ project: 'default', source: good.source }))).join('\n')).toMatch(/required property 'destination'/);
  });
});

describe('the values file: what the inputs change from the defaults', () => {
  it.each([
    ['an equal value is left out', { a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } }, {}],
    ['a changed leaf is kept, its unchanged siblings not', { a: { b: 2, c: 3 } }, { a: { b: 1, c: 3 } }, { a: { b: 2 } }],
    ['a list is kept whole when it differs', { l: [1, 2] }, { l: [1] }, { l: [1, 2] }],
    ['a removed default becomes null (helm deletes it)', { a: {} }, { a: { b: 1 } }, { a: { b: null } }],
    ['a new key is kept', { n: { m: 'x' } }, {}, { n: { m: 'x' } }],
  ])('%s', (_name, full, defaults, expected) => {
    expect(overrides(full, defaults)).toEqual(expected);
  });
});
