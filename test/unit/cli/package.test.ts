// What the mmoctl package ships and reports stays in step: one version for the package, the chart,
// the game server it deploys by default and the server workspace; every command is registered.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../cli/commands.ts';
import { CHART_DIR, CLI_VERSION, PACKAGE_ROOT, PROFILES, presetPath, readChartMeta } from '../../../cli/package.ts';
import { existsSync, readdirSync } from 'node:fs';

const manifest = (path: string) => JSON.parse(readFileSync(join(PACKAGE_ROOT, path), 'utf8')) as { version: string; files?: string[]; bin?: Record<string, string>; oclif?: { commands: { target: string } } };

describe('the mmoctl package', () => {
  it('keeps the chart version, its appVersion and the server workspace in step with the package version', () => {
    const chart = readChartMeta(CHART_DIR);
    expect({ chart: chart.version, app: chart.appVersion, server: manifest('server/package.json').version }).toEqual({ chart: CLI_VERSION, app: CLI_VERSION, server: CLI_VERSION });
  });

  it('has a preset for every profile --profile accepts, and nothing else in values/', () => {
    expect(readdirSync(join(PACKAGE_ROOT, 'values')).sort()).toEqual(PROFILES.map((p) => `${p}.yaml`).sort());
    for (const p of PROFILES) expect(typeof parse(readFileSync(presetPath(p), 'utf8'))).toBe('object');
  });

  it('ships the entry point, compiled code, chart, presets, templates and schemas', () => {
    const pkg = manifest('package.json');
    expect(pkg.bin).toEqual({ mmoctl: 'bin/mmoctl.js' });
    for (const path of ['bin/', 'dist/', 'charts/', 'values/', 'cli/templates/', 'cli/schemas/']) expect(pkg.files).toContain(path);
    expect(pkg.oclif?.commands.target).toBe('./dist/cli/commands.js');
    expect(existsSync(join(PACKAGE_ROOT, 'cli', 'commands.ts'))).toBe(true);
  });

  it('registers every command file under cli/commands', () => {
    const files = (dir: string, prefix = ''): string[] =>
      readdirSync(join(PACKAGE_ROOT, 'cli', 'commands', dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name), `${prefix}${e.name}:`) : [`${prefix}${e.name.replace(/\.ts$/, '')}`],
      );
    expect(Object.keys(COMMANDS).sort()).toEqual(files('').sort());
  });
});
