// `mmoctl support-bundle` over the fakes: what the archive holds, what it lists as missing and why,
// and that no value of the release's Secrets survives anywhere in it — also where the cluster itself
// leaked one (a log line, an event, a ConfigMap, a values file).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { bundlePath, defaultBundleName, supportBundleDocument, writeBundle } from '../../../cli/bundle/archive.ts';
import { collectBundle } from '../../../cli/bundle/collect.ts';
import { marker, redactionFrom, redactValues } from '../../../cli/bundle/redact.ts';
import { renderBundle } from '../../../cli/bundle/render.ts';
import type { PreflightReport } from '../../../cli/checks/report.ts';
import { FailedError } from '../../../cli/errors.ts';
import { PLAIN } from '../../../cli/ui/style.ts';
import { assertDocument } from '../../support/cli.ts';
import type { FakeHelm, FakeKube } from './fakes.ts';
import { NOW, NS, REF, ReleaseWorld, SECRET_VALUES } from './release-world.ts';

/** Every string the bundle must not hold: each Secret value, and the passwords inside the URLs. */
const FORBIDDEN = Object.values(SECRET_VALUES);

const PREFLIGHT: PreflightReport = {
  release: 'game',
  namespace: NS,
  results: [{ id: 'cluster.version', category: 'cluster', description: 'the cluster runs a supported Kubernetes', status: 'pass', hint: 'checks.md#cluster-version', durationMs: 3 }],
  summary: { pass: 1, warn: 0, fail: 0, skip: 0 },
  durationMs: 12,
};

/** A world whose cluster leaks secret values where a careless operator or program would put them. */
function leakyWorld(): { w: ReleaseWorld; kube: FakeKube; helm: FakeHelm } {
  const w = new ReleaseWorld();
  const pg = `postgres://mmo:${SECRET_VALUES.postgres}@game-mmo-postgres.${NS}.svc:5432/mmo`;
  w.event('Pod', 'game-mmo-server-5d8f9c7b6-qak0', 'Failed', `Error: cannot connect to ${pg}`, 2);
  w.values = { ...w.values, gameServer: { config: { extraToken: 'not-in-any-secret-Zt9Yx' } }, postgres: { external: { password: 'external-Db-Pass-Word-77' } } };
  const cm: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game-mmo-server', namespace: NS, labels: { 'app.kubernetes.io/instance': 'game' } }, data: { NOTE: `admin token is ${SECRET_VALUES.admin}` } };
  const kube = w.kube();
  kube.objects.set('ConfigMap', [cm]);
  kube.objects.set('Namespace', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }]);
  kube.logText.set('game-mmo-server-5d8f9c7b6-qak0/server', `{"msg":"connected","redis":"redis://:${encodeURIComponent(SECRET_VALUES.redis)}@game-mmo-redis:6379/0","auth":"${SECRET_VALUES.auth}"}\n`);
  kube.logText.set('game-mmo-postgres-0/postgres', 'database system is ready to accept connections\n');
  return { w, kube, helm: w.helm() };
}

const collect = (kube: FakeKube, helm: FakeHelm) =>
  collectBundle(REF, { kube: async () => kube, helm: async () => helm, preflight: async (values) => ({ ...PREFLIGHT, results: [{ ...PREFLIGHT.results[0]!, message: JSON.stringify(values) }] }), now: () => NOW });

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('mmoctl support-bundle', () => {
  it('holds status, preflight, helm history and values, the release\'s objects as YAML, versions, and the logs the cluster serves', async () => {
    const { kube, helm } = leakyWorld();
    const b = await collect(kube, helm);
    const paths = b.parts.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      'status.json', 'preflight.json', 'versions.json',
      'helm/history.yaml', 'helm/values.yaml', 'helm/values-computed.yaml', 'helm/manifest.yaml',
      'cluster/namespace.yaml', 'cluster/deployments.yaml', 'cluster/statefulsets.yaml', 'cluster/pods.yaml', 'cluster/events.yaml',
      'cluster/services.yaml', 'cluster/endpointslices.yaml', 'cluster/persistentvolumeclaims.yaml', 'cluster/horizontalpodautoscalers.yaml',
      'cluster/poddisruptionbudgets.yaml', 'cluster/configmaps.yaml', 'cluster/secrets.yaml', 'cluster/nodes.yaml',
      'logs/game-mmo-server-5d8f9c7b6-qak0/server.log', 'logs/game-mmo-postgres-0/postgres.log',
    ]));
    expect(JSON.parse(b.parts.find((p) => p.path === 'status.json')!.text)).toMatchObject({ kind: 'StatusReport', verdict: 'healthy' });
    expect(JSON.parse(b.parts.find((p) => p.path === 'preflight.json')!.text)).toMatchObject({ kind: 'PreflightReport', passed: true });
  });

  it('lists every log the cluster would not serve, with the reason, instead of leaving it out', async () => {
    const { kube, helm } = leakyWorld();
    const b = await collect(kube, helm);
    expect(b.missing.map((m) => m.path)).toEqual([
      'logs/game-mmo-rabbitmq-0/rabbitmq.log',
      'logs/game-mmo-redis-0/redis.log',
      'logs/game-mmo-server-5d8f9c7b6-wbk1/server.log',
    ]);
    expect(b.missing[0]!.reason).toBe('cannot read the log of game/game-mmo-rabbitmq-0 rabbitmq: no kubelet answers');
  });

  it('asks for the previous log of a container that restarted', async () => {
    const { w } = leakyWorld();
    w.crashLoop(w.find(w.pods, 'game-mmo-redis-0'), 4);
    const kube = w.kube();
    kube.logText.set('game-mmo-redis-0/redis/previous', 'FATAL: out of memory\n');
    const b = await collect(kube, w.helm());
    expect(b.parts.find((p) => p.path === 'logs/game-mmo-redis-0/redis.previous.log')?.text).toBe('FATAL: out of memory\n');
  });

  it('keeps every Secret value out of every file, wherever the cluster leaked it', async () => {
    const { kube, helm } = leakyWorld();
    const b = await collect(kube, helm);
    const all = [...b.parts.map((p) => p.text), ...b.missing.map((m) => m.reason)].join('\n');
    for (const v of [...FORBIDDEN, encodeURIComponent(SECRET_VALUES.redis), Buffer.from(SECRET_VALUES.postgres).toString('base64')]) expect(all).not.toContain(v);
    const log = b.parts.find((p) => p.path === 'logs/game-mmo-server-5d8f9c7b6-qak0/server.log')!.text;
    // The log's URL names another host than the Secret's, so the password inside it is what gets caught.
    expect(log).toContain(`redis://:${marker('game-mmo-redis', 'password')}@game-mmo-redis:6379/0`);
    expect(log).toContain(marker('game-mmo-server', 'MMO_AUTH_SECRET'));
    expect(b.parts.find((p) => p.path === 'cluster/events.yaml')!.text).toContain(marker('game-mmo-server', 'DATABASE_URL'));
    expect(b.parts.find((p) => p.path === 'cluster/configmaps.yaml')!.text).toContain(`admin token is ${marker('game-mmo-server', 'MMO_ADMIN_TOKEN')}`);
  });

  it('redacts credential-named values that never reached a Secret', async () => {
    const { kube, helm } = leakyWorld();
    const b = await collect(kube, helm);
    const values = b.parts.find((p) => p.path === 'helm/values.yaml')!.text;
    expect(values).not.toContain('not-in-any-secret-Zt9Yx');
    expect(values).not.toContain('external-Db-Pass-Word-77');
    expect(values).toContain('[REDACTED value of postgres.external.password]');
    expect(values).toContain('nodePort: 30555');
  });

  it('shows Secrets as names and key names only, and helm\'s manifest without Secret data', async () => {
    const { kube, helm } = leakyWorld();
    const b = await collect(kube, helm);
    expect(b.parts.find((p) => p.path === 'cluster/secrets.yaml')!.text).toContain('- name: game-mmo-server\n  type: Opaque\n  keys:\n    - AMQP_URL\n');
    const manifest = b.parts.find((p) => p.path === 'helm/manifest.yaml')!.text;
    expect(manifest).toMatch(/kind: Secret[\s\S]*keys:\n {2}- password/);
    expect(manifest).not.toMatch(/^data:/m);
  });

  it('makes no bundle when the Secrets cannot be read, since nothing could be redacted', async () => {
    const { kube, helm } = leakyWorld();
    kube.forbidden.add('Secret');
    const err = await collect(kube, helm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FailedError);
    expect((err as Error).message).toBe('no support bundle: the Secrets of namespace game could not be read, so their values could not be kept out of it (cannot list Secrets: forbidden).');
  });

  it('still bundles what the cluster holds when helm has no such release, and says what is missing', async () => {
    const w = new ReleaseWorld();
    w.release = undefined;
    const b = await collect(w.kube(), w.helm());
    expect(b.missing.filter((m) => !m.path.startsWith('logs/')).map((m) => `${m.path}: ${m.reason}`)).toEqual([
      'cluster/namespace.yaml: namespace game does not exist',
      'helm/history.yaml: helm has no release game in game',
      'helm/manifest.yaml: helm has no release game in game',
      'status.json: helm has no release game in game',
    ]);
    expect(b.parts.map((p) => p.path)).toContain('cluster/pods.yaml');
  });

  it('writes one .tar.gz whose bundle.json lists every file, matches the schema, and holds no Secret value', async () => {
    const { kube, helm } = leakyWorld();
    const contents = await collect(kube, helm);
    const dir = await mkdtemp(join(tmpdir(), 'mmoctl-bundle-test-'));
    dirs.push(dir);
    const path = bundlePath(dir, 'game', contents.createdAt);
    expect(path).toBe(join(dir, 'mmoctl-support-game-20261204T120000Z.tar.gz'));
    const bundle = await writeBundle(path, REF, contents);
    expect(bundle.bytes).toBeGreaterThan(1000);
    expect(() => assertDocument(JSON.parse(JSON.stringify(supportBundleDocument(bundle))))).not.toThrow();

    const out = join(dir, 'x');
    await import('node:fs/promises').then((fs) => fs.mkdir(out));
    await extract({ file: path, cwd: out });
    const top = join(out, 'mmoctl-support-game-20261204T120000Z');
    const files = (await readdir(top, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(top.length + 1)).sort();
    expect(files).toEqual([...contents.parts.map((p) => p.path), 'bundle.json'].sort());
    const index = JSON.parse(await readFile(join(top, 'bundle.json'), 'utf8')) as { path: string; missing: unknown[] };
    expect(() => assertDocument(index)).not.toThrow();
    expect(index.path).toBe('mmoctl-support-game-20261204T120000Z.tar.gz');
    expect(index.missing).toHaveLength(3);
    for (const f of files) {
      const text = await readFile(join(top, f), 'utf8');
      for (const v of FORBIDDEN) expect(text, f).not.toContain(v);
    }
  });

  it('tells where it wrote and what it could not collect', async () => {
    const { kube, helm } = leakyWorld();
    const contents = await collect(kube, helm);
    const text = renderBundle({ path: '/tmp/b.tar.gz', release: 'game', namespace: NS, createdAt: contents.createdAt, bytes: 31_000, parts: contents.parts.map((p) => ({ path: p.path, what: p.what, bytes: 1 })), missing: contents.missing, redaction: { secrets: ['a', 'b'], values: 16, minLength: 6, tooShort: [], note: '' } }, PLAIN);
    expect(text).toMatch(/^✔ wrote \/tmp\/b\.tar\.gz \(30 KiB\) for release game in game\n/);
    expect(text).toMatch(/Not collected \(3\)\n {2}○ logs\/game-mmo-rabbitmq-0\/rabbitmq\.log {2}cannot read the log/);
  });
});

describe('redaction', () => {
  it('replaces a URL whole, and its password wherever it appears alone or URL-encoded', () => {
    const s = new ReleaseWorld().secret('db', 'postgres', { url: 'postgres://app:p%40ss-w0rd!x@db:5432/app' });
    const r = redactionFrom([s]);
    expect(r.redact('url=postgres://app:p%40ss-w0rd!x@db:5432/app')).toBe(`url=${marker('db', 'url')}`);
    expect(r.redact('pw p@ss-w0rd!x and p%40ss-w0rd!x')).toBe(`pw ${marker('db', 'url', 'password')} and ${marker('db', 'url', 'password')}`);
  });

  it('finds the strings inside a JSON value (TURN credentials) and the base64 form of any value', () => {
    const s = new ReleaseWorld().secret('ice', 'game-server', { servers: '[{"urls":"turn:turn.example:3478","username":"u","credential":"turn-Cred-123456"}]' });
    const r = redactionFrom([s]);
    expect(r.redact('credential=turn-Cred-123456')).toBe(`credential=${marker('ice', 'servers', 'field')}`);
    expect(r.redact(Buffer.from('hunter2-hunter2').toString('base64'))).toBe(Buffer.from('hunter2-hunter2').toString('base64'));
    const plain = redactionFrom([new ReleaseWorld().secret('x', 'c', { k: 'hunter2-hunter2' })]);
    expect(plain.redact(`v: ${Buffer.from('hunter2-hunter2').toString('base64')}`)).toBe(`v: ${marker('x', 'k', 'base64')}`);
  });

  it('does not search for values too short to tell from ordinary words, and names them', () => {
    const r = redactionFrom([new ReleaseWorld().secret('db', 'postgres', { username: 'mmo', password: 'long-enough-1' })]);
    expect(r.redact('user mmo')).toBe('user mmo');
    expect(r.tooShort).toEqual(['db/username']);
  });

  it('lists helm\'s release records but does not search their contents', () => {
    const rec = { ...new ReleaseWorld().secret('sh.helm.release.v1.game.v1', 'x', { release: 'H4sIAAAAAAAA-blob' }), type: 'helm.sh/release.v1' };
    const r = redactionFrom([rec]);
    expect(r.values).toBe(0);
    expect(r.secrets).toEqual([{ name: 'sh.helm.release.v1.game.v1', type: 'helm.sh/release.v1', keys: ['release'] }]);
  });

  it('redacts values by key name, but not the names of Secrets and keys', () => {
    expect(redactValues({ postgres: { auth: { existingSecret: 'db-creds', passwordKey: 'password' }, external: { password: 'x1' } }, list: [{ token: 't' }], n: 1 })).toEqual({
      postgres: { auth: { existingSecret: 'db-creds', passwordKey: 'password' }, external: { password: '[REDACTED value of postgres.external.password]' } },
      list: [{ token: '[REDACTED value of list[0].token]' }],
      n: 1,
    });
  });

  it('names the archive after the release and the UTC time', () => {
    expect(defaultBundleName('game', '2026-12-04T12:00:00.123Z')).toBe('mmoctl-support-game-20261204T120000Z.tar.gz');
  });
});
