/**
 * The flags that decide a release's values, shared by every command that renders the chart
 * (preflight, install, upgrade, template, values validate/show). helm applies the sets in its own
 * fixed order (--set-json, then --set, then --set-string), and so do we.
 */
import { Flags } from '@oclif/core';
import type { SetArg } from '../helm/helm.ts';
import { PROFILES, type Profile } from '../package.ts';
import type { ValueInputs } from './inputs.ts';

export const valueFlags = {
  profile: Flags.option({ options: PROFILES, summary: 'Start from a preset: dev, staging or production (values/ in this package).', helpGroup: 'VALUES' })(),
  values: Flags.string({ char: 'f', multiple: true, summary: 'Values file (YAML); repeat to layer several, later files win.', helpGroup: 'VALUES' }),
  set: Flags.string({ multiple: true, summary: 'Set a value: key=value, a.b[0]=x, lists as key={a,b} (helm syntax).', helpGroup: 'VALUES' }),
  'set-string': Flags.string({ multiple: true, summary: 'Set a value, always as a string.', helpGroup: 'VALUES' }),
  'set-json': Flags.string({ multiple: true, summary: "Set a value from JSON: key='{\"a\":1}'.", helpGroup: 'VALUES' }),
  version: Flags.string({ summary: 'Game server version to run (the image tag); default the chart\'s appVersion.', helpGroup: 'VALUES' }),
  chart: Flags.string({ summary: 'Use this chart instead of the one inside mmoctl: a directory, a .tgz, repo/chart or oci://… reference.', helpGroup: 'VALUES' }),
  'chart-version': Flags.string({ summary: 'Version of a --chart repository or OCI reference.', helpGroup: 'VALUES', dependsOn: ['chart'] }),
};

export interface ValueFlagValues {
  profile?: Profile;
  values?: string[];
  set?: string[];
  'set-string'?: string[];
  'set-json'?: string[];
  version?: string;
  chart?: string;
  'chart-version'?: string;
}

/** The value inputs these flags describe. */
export function valueInputs(flags: ValueFlagValues): ValueInputs {
  const sets: SetArg[] = [
    ...(flags['set-json'] ?? []).map((value) => ({ flag: '--set-json' as const, value })),
    ...(flags.set ?? []).map((value) => ({ flag: '--set' as const, value })),
    ...(flags['set-string'] ?? []).map((value) => ({ flag: '--set-string' as const, value })),
  ];
  return { profile: flags.profile, files: flags.values ?? [], sets, appVersion: flags.version };
}
