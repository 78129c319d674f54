/**
 * Where the mmoctl package keeps what it ships besides code — the chart and the presets — and the
 * three versions it reports. Works the same from a checkout (`cli/*.ts` run by Node or vitest) and
 * from an installed package (`dist/cli/*.js` under node_modules), since both sit one or two folders
 * below the package root.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

/** The package root: the nearest folder above this module whose package.json is named "mmoctl". */
export const PACKAGE_ROOT = findPackageRoot(import.meta.dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'mmoctl') return dir;
    if (dirname(dir) === dir) throw new Error(`mmoctl: no package.json named "mmoctl" above ${from}; the package is damaged, reinstall it`);
  }
}

/** The chart this package installs by default. */
export const CHART_DIR = join(PACKAGE_ROOT, 'charts', 'mmo');
/** Preset values files, one per profile. */
export const PRESETS_DIR = join(PACKAGE_ROOT, 'values');
/** Profiles `--profile` accepts: the files in values/. */
export const PROFILES = ['dev', 'staging', 'production'] as const;
export type Profile = (typeof PROFILES)[number];

export function presetPath(profile: Profile): string {
  return join(PRESETS_DIR, `${profile}.yaml`);
}

/** What a chart's Chart.yaml says about itself (the fields mmoctl reads). */
export interface ChartMeta {
  readonly name: string;
  readonly version: string;
  readonly appVersion: string;
  /** SemVer range of Kubernetes versions the chart supports (Chart.yaml `kubeVersion`). */
  readonly kubeVersion?: string;
  readonly home?: string;
}

/** Reads Chart.yaml of a chart directory. */
export function readChartMeta(chartDir: string): ChartMeta {
  const meta = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Partial<ChartMeta>;
  if (!meta.name || !meta.version) throw new Error(`${join(chartDir, 'Chart.yaml')} has no name or version`);
  return { name: meta.name, version: String(meta.version), appVersion: String(meta.appVersion ?? meta.version), kubeVersion: meta.kubeVersion, home: meta.home };
}

/** The version of this mmoctl package (package.json). */
export const CLI_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Where `docs/checks.md` and `docs/cli.md` are published; hints point there. */
export const DOCS_URL = 'https://github.com/mmoctl/mmoctl/blob/main/docs';
