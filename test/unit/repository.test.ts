// Rules of the repository's layout that no compiler checks: what its text points at exists.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const tracked = (...paths: string[]): string[] =>
  execFileSync('git', ['ls-files', '-z', '--', ...paths], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

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
