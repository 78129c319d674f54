/**
 * Finding the helm binary and checking its version, once per command: `--helm PATH`, else
 * `MMOCTL_HELM`, else `helm` on PATH. Helm 3.14+ and 4.x are supported; their flag names differ
 * (`--atomic` / `--rollback-on-failure`), which is why the major version is kept.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { InvalidInputError } from '../errors.ts';
import type { HelmBinary } from './helm.ts';

/** The oldest helm mmoctl supports, and the first major it does not. */
export const HELM_SUPPORTED = '>=3.14.0 <5.0.0-0';

const INSTALL_HINT =
  'Install helm 3.14+ or 4.x (https://helm.sh/docs/intro/install/), or point mmoctl at one with --helm PATH or MMOCTL_HELM=PATH.';

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where helm is, by the precedence above; undefined when it is nowhere. */
export async function locateHelm(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; from: string } | undefined> {
  if (flag) return { path: resolve(flag), from: '--helm' };
  if (env.MMOCTL_HELM) return { path: resolve(env.MMOCTL_HELM), from: 'MMOCTL_HELM' };
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(isAbsolute(dir) ? dir : resolve(dir), 'helm');
    if (await isExecutable(candidate)) return { path: candidate, from: 'PATH' };
  }
  return undefined;
}

/**
 * The helm binary to use, with its version checked. Missing, not runnable or unsupported is invalid
 * input (exit 2), with how to get a good one.
 */
export async function findHelm(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<HelmBinary> {
  const found = await locateHelm(flag, env);
  if (!found) throw new InvalidInputError('helm was not found: not given with --helm or MMOCTL_HELM, and no helm on PATH.', { hint: INSTALL_HINT });
  if (!(await isExecutable(found.path))) {
    throw new InvalidInputError(`helm from ${found.from} (${found.path}) does not exist or is not executable.`, { hint: INSTALL_HINT });
  }
  const [{ execa }, { default: semver }] = await Promise.all([import('execa'), import('semver')]);
  const res = await execa(found.path, ['version', '--template', '{{.Version}}'], { reject: false, timeout: 10_000 });
  const version = res.stdout.trim();
  const parsed = semver.coerce(version, { includePrerelease: true });
  if (res.exitCode !== 0 || !parsed) {
    throw new InvalidInputError(`${found.path} (from ${found.from}) did not report a helm version: ${(res.stderr || res.stdout || res.shortMessage || '').trim()}`, { hint: INSTALL_HINT });
  }
  if (!semver.satisfies(parsed, HELM_SUPPORTED, { includePrerelease: true })) {
    throw new InvalidInputError(`helm ${version} at ${found.path} is not supported; mmoctl needs helm 3.14 or newer (3.x or 4.x).`, { hint: INSTALL_HINT });
  }
  return { path: found.path, version, major: parsed.major as 3 | 4 };
}
