// `mmoctl values validate|show`, `template` and `init` with the real helm 3 and 4: every problem of
// bad values with its key, where it was written (file:line:col or the --set) and a fix that is
// itself valid; values merged exactly as helm merges them; the generated values file round-trips.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findHelm } from '../../cli/helm/binary.ts';
import { HelmCli } from '../../cli/helm/cli.ts';
import { CHART_DIR } from '../../cli/package.ts';
import type { SetArg } from '../../cli/helm/helm.ts';
import { validateValues } from '../../cli/values/validate.ts';
import { json, mmoctl } from '../support/cli.ts';

const MAJORS = [3, 4] as const;
const chart = { ref: CHART_DIR, dir: CHART_DIR, bundled: true };
const ref = { release: 'mmo', namespace: 'game' };
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmoctl-values-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const set = (...values: string[]): SetArg[] => values.map((value) => ({ flag: '--set', value }));

/** Bad inputs by class; each names the key a user must see. */
const CORPUS: { name: string; sets: SetArg[]; key: string }[] = [
  { name: 'a string where a number goes', sets: set('gameServer.config.tickRate=fast'), key: 'gameServer.config.tickRate' },
  { name: 'a number out of range', sets: set('gameServer.config.tickRate=500'), key: 'gameServer.config.tickRate' },
  { name: 'a value outside its enum', sets: set('udp.mode=hostport'), key: 'udp.mode' },
  { name: 'an unknown key', sets: set('gameServer.replica=3'), key: 'gameServer.replica' },
  { name: 'an unknown top-level key', sets: set('postgresql.enabled=false'), key: 'postgresql' },
  { name: 'a name that is not a DNS label', sets: set('nameOverride=Game_Server'), key: 'nameOverride' },
  { name: 'a list where a map goes', sets: [{ flag: '--set-json', value: 'gameServer.resources=[1]' }], key: 'gameServer.resources' },
  { name: 'patch rate above tick rate (a cross-field rule)', sets: set('gameServer.config.patchRate=60', 'gameServer.config.tickRate=30'), key: 'gameServer.config.patchRate' },
  { name: 'a grace period shorter than the drain', sets: set('gameServer.terminationGracePeriodSeconds=10'), key: 'gameServer.terminationGracePeriodSeconds' },
  // The chart's line starts with the key its fix changes: the limit.
  { name: 'requests above limits', sets: set('gameServer.resources.requests.cpu=2'), key: 'gameServer.resources.limits.cpu' },
];

describe.each(MAJORS)('values through mmoctl with helm %i', (major) => {
  const helm = async () => new HelmCli(await findHelm(inject('helmPaths')[major]));

  it.each(CORPUS)('$name: reported with its key and where it was set, and the suggested fix is itself valid', async ({ sets, key }) => {
    const h = await helm();
    const v = await validateValues(h, chart, { files: [], sets }, ref);
    const p = v.problems.find((x) => x.key === key);
    expect(p, JSON.stringify(v.problems)).toBeDefined();
    expect(p!.message.length).toBeGreaterThan(10);
    if (sets.some((s) => s.value.startsWith(`${key}=`))) expect(p!.source).toMatch(new RegExp(`^--set(-json)? ${key.replace(/[.[\]]/g, '\\$&')}=`));
    // Apply the fix: a --set/--set-json is layered last; "Remove k" removes the set that wrote k.
    const fix = p!.fix ?? '';
    const m = /^(--set|--set-json|--set-string) '?([^=]+)=(.*?)'?$/.exec(fix);
    let fixed: SetArg[];
    if (m) fixed = [...sets, { flag: m[1] as SetArg['flag'], value: `${m[2]}=${m[3]}` }];
    else if (/Remove /.test(fix)) fixed = sets.filter((s) => !s.value.startsWith(`${key}=`) && !s.value.startsWith(`${key}.`));
    else throw new Error(`no applicable fix for ${key}: ${fix}`);
    const after = await validateValues(h, chart, { files: [], sets: fixed }, ref);
    expect(after.problems.filter((x) => x.key === key), `after ${fix}`).toEqual([]);
  });

  it('locates a bad value in a values file by line and column, and lists every problem at once', async () => {
    const file = join(dir, `studio-${major}.yaml`);
    await writeFile(file, ['gameServer:', '  config:', '    tickRate: fast', 'udp:', '  mode: hostport', 'capacity:', '  playerPerPod: 10', ''].join('\n'));
    const r = await mmoctl(['values', 'validate', '-f', file, '-o', 'json'], { helm: inject('helmPaths')[major] });
    expect(r.code).toBe(2);
    const doc = json<{ valid: boolean; problems: { key: string; source: string; fix?: string }[] }>(r);
    expect(doc.valid).toBe(false);
    expect(doc.problems.map((p) => [p.key, p.source])).toEqual([
      ['capacity.playerPerPod', `${file}:7:3`],
      ['gameServer.config.tickRate', `${file}:3:5`],
      ['udp.mode', `${file}:5:3`],
    ]);
    expect(doc.problems[0]!.fix).toBe('did you mean capacity.playersPerPod? Remove capacity.playerPerPod');
  });

  it('refuses files that cannot be values, saying where and why, before asking helm anything', async () => {
    const list = join(dir, 'list.yaml');
    const broken = join(dir, 'broken.yaml');
    await writeFile(list, '- a\n- b\n');
    await writeFile(broken, 'gameServer:\n  replicas: 1\n replicas: 2\n');
    const r = await mmoctl(['values', 'validate', '-f', list, '-f', broken, '-f', join(dir, 'missing.yaml')], { helm: inject('helmPaths')[major] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`at ${list}:1:1`);
    expect(r.stderr).toMatch(/a values file holds a map of keys/);
    expect(r.stderr).toMatch(new RegExp(`not valid YAML: .*\\n\\s+at ${broken.replace(/\./g, '\\.')}:3:`));
    expect(r.stderr).toMatch(/cannot read values file .*missing\.yaml: no such file/);
  });

  it('reports a --set helm cannot parse as invalid input, naming the flag', async () => {
    const r = await mmoctl(['values', 'validate', '--set', 'ingress.hosts={a,b', '-o', 'json'], { helm: inject('helmPaths')[major] });
    expect(r.code).toBe(2);
    expect(json<{ problems: { message: string }[] }>(r).problems[0]!.message).toMatch(/helm could not merge the values: .*list must terminate/);
  });

  it('refuses clashing operations switches with exit 2, naming the keys of each clash', async () => {
    const clashes = ['gameServer.autoscaling.enabled=true', 'gameServer.autoscaling.keda.enabled=true', 'vpa.enabled=true', 'vpa.gameServer.updateMode=Auto', 'mesh.istio.enabled=true', 'udp.mode=hostPort'];
    const r = await mmoctl(['values', 'validate', ...clashes.flatMap((s) => ['--set', s]), '-o', 'json'], { helm: inject('helmPaths')[major] });
    expect(r.code).toBe(2);
    const problems = json<{ problems: { key: string; message: string; fix?: string }[] }>(r).problems;
    const byKey = new Map(problems.map((p) => [p.key, p]));
    expect(byKey.get('gameServer.autoscaling.enabled')?.message).toContain('gameServer.autoscaling.keda.enabled');
    expect(byKey.get('vpa.gameServer.updateMode')?.message).toContain('gameServer.autoscaling.targetCPUUtilizationPercentage');
    expect(byKey.get('udp.mode')?.message).toContain('mesh.istio.enabled');
    expect(byKey.get('udp.mode')?.fix).toBe('--set udp.mode=nodePort, or --set mesh.istio.enabled=false');
  });

  it('shows the values exactly as helm merges them (a null removes a default, --set types)', async () => {
    const r = await mmoctl(['values', 'show', '--profile', 'production', '--set', 'gameServer.config.tickRate=30', '--set-string', 'image.tag=007', '-o', 'json'], { helm: inject('helmPaths')[major] });
    expect(r.code, r.stderr).toBe(0);
    const v = json<{ values: { capacity: { targetPlayers: number }; gameServer: { config: { tickRate: number } }; image: { tag: string } } }>(r).values;
    expect(v.capacity.targetPlayers).toBe(5000);
    expect(v.gameServer.config.tickRate).toBe(30);
    expect(v.image.tag).toBe('007');
  });
});

describe('mmoctl init', () => {
  it.each(['dev', 'staging', 'production'])('writes a %s values file that validates and gives exactly the preset\'s values', async (profile) => {
    const file = join(dir, `${profile}.yaml`);
    const helm = inject('helmPaths')[3];
    const init = await mmoctl(['init', '--profile', profile, '--file', file, '-o', 'json'], { helm });
    expect(init.code, init.stderr).toBe(0);
    expect(json<{ kind: string }>(init).kind).toBe('InitResult');
    expect((await mmoctl(['init', '--profile', profile, '--file', file], { helm })).code).toBe(2);
    const fromFile = json<{ values: unknown }>(await mmoctl(['values', 'show', '-f', file, '-o', 'json'], { helm }));
    const fromPreset = json<{ values: unknown }>(await mmoctl(['values', 'show', '--profile', profile, '-o', 'json'], { helm }));
    expect(fromFile.values).toEqual(fromPreset.values);
  });
});

describe('mmoctl template', () => {
  it('renders what helm template renders, and refuses bad values with exit 2 before rendering', async () => {
    const helm = inject('helmPaths')[4];
    const r = await mmoctl(['template', '--profile', 'production', '-o', 'json'], { helm });
    expect(r.code, r.stderr).toBe(0);
    const kinds = json<{ objects: { kind: string }[] }>(r).objects.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(1);
    expect(kinds).toContain('PrometheusRule');
    const bad = await mmoctl(['template', '--profile', 'dev', '--set', 'udp.mode=nope'], { helm });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/udp\.mode: expected one of/);
  });
});
