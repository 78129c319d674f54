// `mmoctl status` and `mmoctl support-bundle`, compiled, against a real API server and real helm (3 and
// 4): a dev-preset release installed into a namespace that enforces Pod Security "restricted" is
// healthy; a crash-looping game server makes it degraded with its restarts shown; repaired, `--wait`
// sees it healthy again; a release that does not exist is said to be so; and the support bundle holds
// no value of the release's Secrets.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { extract } from 'tar';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABELS } from '../../contract/labels.ts';
import { freeTcpPort } from '../../scripts/lib/ports.ts';
import { CHART_DIR, PRESETS_DIR } from '../support/chart.ts';
import { HELM_MAJORS, clients, eventually, helm, uniqueName } from './kube.ts';
import { podSecurityNamespace, secretsOf } from './mmo-chart.ts';
import { json, mmoctl } from '../support/cli.ts';

const rig = inject('rig');
const admin = clients(rig.kubeconfig);
const RELEASE = 'game';

interface Finding {
  component: string;
  level: string;
  message: string;
}
interface Report {
  kind: string;
  verdict: string;
  reasons: Finding[];
  gameServers: { pods: { name: string; ready: boolean; restarts: number; state: string; players: null; playersSource: string; zone: string | null }[] };
}

describe.each(HELM_MAJORS)('mmoctl status with helm %i', (major) => {
  const helmPath = () => inject('helmPaths')[major];
  const run = (args: string[]) => mmoctl(args, { kubeconfig: rig.kubeconfig, helm: helmPath() });
  let ns = '';
  const work: string[] = [];

  beforeAll(async () => {
    ns = await podSecurityNamespace(admin, uniqueName(`cli-status-h${major}`), 'restricted');
    const res = await helm(helmPath(), rig.kubeconfig, ['install', RELEASE, CHART_DIR, '-n', ns, '-f', join(PRESETS_DIR, 'dev.yaml'), '--wait', '--timeout', '90s']);
    expect(res.code, res.stderr).toBe(0);
  });

  afterAll(async () => {
    await helm(helmPath(), rig.kubeconfig, ['uninstall', RELEASE, '-n', ns, '--timeout', '60s']);
    await admin.core.deleteNamespace({ name: ns }).catch(() => {});
    await Promise.all(work.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('calls a fresh install whose pods are reported Ready healthy (exit 0), in a StatusReport the schema accepts', async () => {
    const res = await run(['status', '-n', ns, '--release', RELEASE, '-o', 'json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const doc = json<Report>(res);
    expect(doc).toMatchObject({ kind: 'StatusReport', verdict: 'healthy', reasons: [] });
    expect(doc.gameServers.pods).toEqual([expect.objectContaining({ state: 'Running', restarts: 0, players: null, playersSource: 'unavailable', zone: expect.stringMatching(/^zone-[abc]$/) })]);
    const human = await run(['status', '-n', ns, '--release', RELEASE]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^Release ${RELEASE} in ${ns}: ✔ healthy\n  chart mmo-\\S+ · game server \\S+ · revision 1 deployed`));
    expect(human.stdout).toMatch(/Data services {2}postgres 1\/1 ready · redis 1\/1 ready · rabbitmq 1\/1 ready/);
  });

  it('reads several clusters side by side; one that cannot be reached is a column saying why (exit 3)', async () => {
    // Two contexts on the rig (two "regions" of one release) and one whose API server is a closed loopback port.
    const dir = await mkdtemp(join(tmpdir(), 'mmoctl-regions-'));
    work.push(dir);
    const config = parse(await readFile(rig.kubeconfig, 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[]; contexts: { name: string; context: { cluster: string; user: string } }[]; 'current-context': string };
    const here = config.contexts.find((c) => c.name === config['current-context'])!.context;
    const rigCluster = config.clusters.find((c) => c.name === here.cluster)!.cluster;
    config.clusters.push({ name: 'closed', cluster: { ...rigCluster, server: `https://127.0.0.1:${await freeTcpPort()}` } });
    config.contexts.push({ name: 'eu-west', context: here }, { name: 'us-east', context: here }, { name: 'ap-south', context: { ...here, cluster: 'closed' } });
    const kubeconfig = join(dir, 'regions.kubeconfig');
    await writeFile(kubeconfig, stringify(config));
    const regions = (args: string[]) => mmoctl(['status', '-n', ns, '--release', RELEASE, '--context', 'eu-west', '--context', 'us-east', ...args], { kubeconfig, helm: helmPath() });

    const both = await regions(['-o', 'json']);
    expect(both.code, both.stdout + both.stderr).toBe(0);
    const doc = json<{ kind: string; verdict: string; clusters: { context: string; verdict: string; report?: Report }[] }>(both);
    expect(doc).toMatchObject({ kind: 'MultiClusterStatus', verdict: 'healthy' });
    expect(doc.clusters.map((c) => [c.context, c.verdict, c.report?.kind])).toEqual([['eu-west', 'healthy', 'StatusReport'], ['us-east', 'healthy', 'StatusReport']]);

    const three = await regions(['--context', 'ap-south']);
    expect(three.code, three.stdout + three.stderr).toBe(3);
    expect(three.stdout).toMatch(new RegExp(`^Release ${RELEASE} in ${ns} across 3 clusters: × down\n`));
    expect(three.stdout).toMatch(/ +eu-west +us-east +ap-south\n +verdict +✔ healthy +✔ healthy +× unreadable\n/);
    expect(three.stdout).toMatch(/game servers +1\/1 ready +1\/1 ready +-\n/);
    expect(three.stdout).toMatch(/× ap-south: .*127\.0\.0\.1/);

    // Following several clusters at once is refused before anything is read.
    const wait = await regions(['--wait']);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toMatch(/--wait follows one cluster; 2 contexts were given/);
    const one = await mmoctl(['history', '-n', ns, '--release', RELEASE, '--context', 'eu-west', '--context', 'us-east'], { kubeconfig, helm: helmPath() });
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/--context was given 2 times; `mmoctl history` works on one cluster/);
  });

  it('writes a support bundle that lists what the rig cannot serve and holds no Secret value of the release', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmoctl-bundle-'));
    work.push(dir);
    const res = await run(['support-bundle', '-n', ns, '--release', RELEASE, '--out', dir, '-o', 'json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const doc = json<{ kind: string; path: string; parts: { path: string }[]; missing: { path: string; reason: string }[] }>(res);
    expect(doc.parts.map((p) => p.path)).toEqual(expect.arrayContaining(['status.json', 'preflight.json', 'helm/history.yaml', 'helm/values-computed.yaml', 'cluster/pods.yaml', 'cluster/events.yaml', 'cluster/secrets.yaml']));
    // No kubelet on the rig: every log is listed as missing, with the API server's reason.
    expect(doc.missing.length).toBeGreaterThan(0);
    expect(doc.missing.every((m) => m.path.startsWith('logs/') && /cannot read the log of/.test(m.reason))).toBe(true);

    await extract({ file: doc.path, cwd: dir });
    const top = join(dir, doc.path.split('/').at(-1)!.replace(/\.tar\.gz$/, ''));
    const files = (await readdir(top, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
    expect(files.length).toBe(doc.parts.length + 1);
    const secrets = await secretsOf(admin, ns);
    const values = Object.values(secrets).flatMap((s) => Object.values(s)).flatMap((v) => {
      const pw = URL.canParse(v) ? new URL(v).password : '';
      return pw ? [v, pw, decodeURIComponent(pw)] : [v];
    });
    expect(values.length).toBeGreaterThanOrEqual(8);
    const text = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
    for (const v of values) expect(text.includes(v), `a Secret value of ${ns} is in the bundle`).toBe(false);
    expect(text).toContain('MMO_ADMIN_TOKEN');
  });

  it('calls a game server reported crash-looping degraded (exit 3) and shows its restarts', async () => {
    const up = await helm(helmPath(), rig.kubeconfig, ['upgrade', RELEASE, CHART_DIR, '-n', ns, '-f', join(PRESETS_DIR, 'dev.yaml'), '--set', 'gameServer.podAnnotations.mmo\\.dev/rig-fault=crashloop']);
    expect(up.code, up.stderr).toBe(0);
    await eventually('a game server pod that restarted', async () => {
      const pods = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.component}=game-server` })).items;
      return pods.some((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0) ? true : undefined;
    }, 30_000);
    const res = await run(['status', '-n', ns, '--release', RELEASE, '-o', 'json']);
    expect(res.code, res.stderr).toBe(3);
    const doc = json<Report>(res);
    expect(doc.verdict).toBe('degraded');
    // kwok cycles a crash-looping container through waiting, running and terminated: any of them, never ready.
    const looping = doc.gameServers.pods.find((p) => p.restarts > 0 && !p.ready);
    expect(looping, JSON.stringify(doc.gameServers.pods)).toBeDefined();
    expect(doc.reasons.map((r) => r.message)).toContainEqual(expect.stringMatching(new RegExp(`^pod ${looping!.name} is crash-looping \\(\\d+ restarts?, last exit Error \\(code 1\\)`)));
    const human = await run(['status', '-n', ns, '--release', RELEASE]);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/: ‼ degraded\n/);
    expect(human.stdout).toMatch(new RegExp(`stable +${looping!.name} +no +\\S+ +[1-9]\\d* `));
  });

  it('--wait follows a repair until the pods are reported Ready and the release healthy again (exit 0)', async () => {
    const fix = await helm(helmPath(), rig.kubeconfig, ['upgrade', RELEASE, CHART_DIR, '-n', ns, '-f', join(PRESETS_DIR, 'dev.yaml')]);
    expect(fix.code, fix.stderr).toBe(0);
    const res = await run(['status', '-n', ns, '--release', RELEASE, '--wait', '--timeout', '60s']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    // Not a terminal: timestamped lines while it waits, then the final picture.
    expect(res.stdout).toMatch(new RegExp(`Release ${RELEASE} in ${ns}: ✔ healthy\n`));
    for (const line of res.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l))) expect(line).toMatch(/^\d\d:\d\d:\d\d (‼ degraded|× down): /);
  });

  it('says a release that does not exist is not there (exit 3)', async () => {
    const res = await run(['status', '-n', ns, '--release', 'nope']);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`Error: release "nope" not found in namespace "${ns}".`);
    expect(res.stderr).toMatch(/Hint: .*helm list -A/);
    expect(res.stdout).toBe('');
  });
});
