// The mmoctl package as a studio gets it: `npm pack` of this repository installed with `npm install -g`
// into a temporary prefix, run from outside the checkout — compiled JavaScript, the chart and the
// presets inside, nothing of the game server or the tests.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/setup/helm.ts';
import { json, mmoctl } from '../support/cli.ts';
import { clients, uniqueName } from './kube.ts';
import { podSecurityNamespace } from './mmo-chart.ts';

const rig = inject('rig');
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
let work = '';
let installed = '';
let tarball = '';

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mmoctl-package-'));
  const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', work], PROJECT_ROOT)) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  // Dependencies come from npm's cache when `npm ci` already fetched them.
  await run('npm', ['install', '--global', '--prefix', join(work, 'prefix'), '--prefer-offline', '--no-audit', '--no-fund', tarball], work);
  installed = join(work, 'prefix', 'bin', 'mmoctl');
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The installed mmoctl, run from outside the checkout with the Node.js that runs the tests. */
const installedCli = (args: string[], kubeconfig?: string) =>
  mmoctl(args, { bin: installed, cwd: work, kubeconfig, helm: inject('helmPaths')[3], env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` } });

describe('the packed mmoctl, installed with npm install -g', () => {
  it('holds compiled JavaScript, the chart and the presets, and none of the server or the tests', async () => {
    const root = join(work, 'prefix', 'lib', 'node_modules', 'mmoctl');
    expect(existsSync(join(root, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(root, 'charts', 'mmo', 'Chart.yaml'))).toBe(true);
    expect(readdirSync(join(root, 'values')).sort()).toEqual(['dev.yaml', 'production.yaml', 'staging.yaml']);
    for (const absent of ['server', 'test', 'scripts', 'cli/commands']) expect(existsSync(join(root, absent)), absent).toBe(false);
    // The game server's libraries are not the CLI's.
    for (const lib of ['@geckos.io/server', '@electric-sql/pglite', 'pg']) expect(existsSync(join(root, 'node_modules', lib)), lib).toBe(false);
  });

  it('reports its own version and the chart it carries', async () => {
    const r = await installedCli(['version', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ mmoctl: string; chart: { version: string; appVersion: string; path: string } }>(r);
    expect(doc.mmoctl).toBe(pkg.version);
    expect(doc.chart).toMatchObject({ version: pkg.version, appVersion: pkg.version });
    expect(doc.chart.path.startsWith(work)).toBe(true);
  });

  it('renders the production preset with the chart inside the package', async () => {
    const r = await installedCli(['template', '--profile', 'production', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const kinds = json<{ objects: { kind: string }[] }>(r).objects.map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'StatefulSet', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'NetworkPolicy']));
  });

  it('runs preflight against a cluster', async () => {
    const ns = await podSecurityNamespace(clients(rig.kubeconfig), uniqueName('pkg'), 'restricted');
    const r = await installedCli(['preflight', '--profile', 'dev', '-n', ns, '-o', 'json'], rig.kubeconfig);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(json<{ kind: string }>(r).kind).toBe('PreflightReport');
  });

  it('tells a user of an old Node.js what to install, instead of failing on syntax', async () => {
    // Node 20 as the machine's own would report itself; the entry point must refuse it in plain words.
    const asNode20 = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.20.2"});Object.defineProperty(process,"version",{value:"v20.20.2"})';
    const r = await mmoctl(['--import', asNode20, join(work, 'prefix', 'lib', 'node_modules', 'mmoctl', 'bin', 'mmoctl.js'), 'version'], { bin: process.execPath, cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mmoctl needs Node.js 22.18 or newer; this is v20.20.2. Install a current Node.js (https://nodejs.org/) and run it again.\n');
  });
});
