// Rules of the repository's layout that no compiler checks: what its text points at exists.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';

const tracked = (...paths: string[]): string[] =>
  execFileSync('git', ['ls-files', '-z', '--', ...paths], { cwd: PROJECT_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
const read = (file: string): string => readFileSync(join(PROJECT_ROOT, file), 'utf8');
/** The repository paths a module's relative imports name. */
const importsOf = (file: string): string[] =>
  [...read(file).matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => relative(PROJECT_ROOT, normalize(join(PROJECT_ROOT, dirname(file), m[1]!))));

describe('npm scripts named in the repository', () => {
  const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
  const mentions = tracked('README.md', 'docs', 'charts', 'values', 'server', 'client', 'protocol', 'scripts', 'test', 'cli', 'bin')
    .filter((f) => /\.(md|ts|yaml|yml|tpl|txt|sh)$/.test(f))
    .flatMap((file) => [...read(file).matchAll(/npm run (?:-s )?([a-z][a-z0-9:-]*)/g)].map((m) => ({ file, script: m[1]! })));

  it('finds the mentions it checks', () => {
    expect(mentions.length).toBeGreaterThan(20);
  });

  const distinct = [...new Map(mentions.map((m) => [`${m.script} ${m.file}`, [m.script, m.file] as const])).values()];
  it.each(distinct)('`npm run %s` (in %s) exists', (script) => {
    expect(scripts).toContain(script);
  });
});

/**
 * The house, bottom floor first: a module imports from its own floor or below, never above. The
 * shared definitions and the wire format sit under everything; the player client stands on them
 * alone (the CLI, tests, benchmarks and `helm test` use it without the server); inside the server,
 * rate limits and the adapters sit under the world, the world under the gateway, the gateway under
 * the transports, and the process entry points on top.
 */
const FLOORS: readonly (readonly string[])[] = [
  ['contract'],
  ['protocol'],
  ['client'],
  ['server/src/log.ts', 'server/src/timeout.ts', 'server/src/config.ts', 'server/src/http-json.ts', 'server/src/unavailable.ts', 'server/src/store'],
  ['server/src/redis.ts'],
  ['server/src/limits', 'server/src/presence', 'server/src/bus'],
  ['server/src/auth', 'server/src/saves.ts', 'server/src/world'],
  ['server/src/ops'],
  ['server/src/gateway'],
  ['server/src/transports'],
  ['server/src/app.ts', 'server/src/dependencies.ts', 'server/src/main.ts', 'server/src/migrate.ts', 'server/src/node-address.ts'],
];

describe('the dependency direction', () => {
  const floorOf = (file: string): number => FLOORS.findIndex((floor) => floor.some((p) => file === p || file.startsWith(`${p}/`)));
  const modules = tracked('contract', 'protocol', 'client', 'server/src').filter((f) => f.endsWith('.ts'));

  it('puts every module on a floor', () => {
    expect(modules.filter((f) => floorOf(f) < 0)).toEqual([]);
  });

  it('keeps the tests to themselves: nothing outside test/ imports from it', () => {
    const outside = tracked('contract', 'protocol', 'client', 'server', 'scripts', 'cli', 'bin').filter((f) => f.endsWith('.ts'));
    const intoTests = outside.filter((file) => importsOf(file).some((target) => target.startsWith('test/')));
    expect(intoTests).toEqual([]);
  });

  it('never imports from a floor above', () => {
    const upward = modules.flatMap((file) =>
      importsOf(file)
        .filter((target) => floorOf(target) > floorOf(file))
        .map((target) => `${file} imports ${target}`),
    );
    expect(upward).toEqual([]);
  });
});

/**
 * The rig runs no container: kwok writes the states a kubelet would. So a cluster test whose name
 * speaks of such a state (ready, complete, crash-looping, `helm test` passing) says that the rig
 * reports it, and none says that something serves; what the states stand for is proven by the
 * server, game, loadtest and browser suites (docs/testing.md, "What the cluster tests show").
 */
describe('cluster test names', () => {
  /** The title of each `it(…)` and `it.each(…)(…)`, as written. */
  const IT = /\bit(?:\.each\([^\n]*?\))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  const STATE = /\bready\b|\bcomplete[sd]?\b|\bcompletion\b|crash-?loop|`helm test`/i;
  const titles = tracked('test/cluster')
    .filter((f) => f.endsWith('.test.ts'))
    .flatMap((file) => [...read(file).matchAll(IT)].map((m) => [m[2]!, file] as const));

  it('finds the names it checks', () => {
    expect(titles.length).toBeGreaterThan(60);
  });

  it.each(titles)('%s (%s) claims only what the rig shows', (title) => {
    expect(title, 'nothing serves on the rig').not.toMatch(/\bserving\b/i);
    if (STATE.test(title)) expect(title, 'a state only kwok writes: say the rig reports it').toMatch(/\breport(s|ed)?\b|\bkwok\b/i);
  });
});
