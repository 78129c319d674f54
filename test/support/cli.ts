/**
 * Runs the compiled mmoctl (bin/mmoctl.js → dist/cli) as a user would, for the suites that prove the
 * CLI against real helm and the rig. `buildCli()` compiles it first (suites own their setup).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from '../../scripts/lib/lock.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';

export const MMOCTL = join(PROJECT_ROOT, 'bin', 'mmoctl.js');

/** Compiles cli/ into dist/ (tsc -p tsconfig.build.json), one build at a time across suites. */
export async function buildCli(): Promise<void> {
  await withLock(join(PROJECT_ROOT, '.tmp', 'build-cli.lock'), { purpose: 'compiling the CLI' }, async () => {
    const tsc = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc');
    await new Promise<void>((resolve, reject) => {
      execFile(tsc, ['-p', join(PROJECT_ROOT, 'tsconfig.build.json')], { cwd: PROJECT_ROOT }, (err, stdout, stderr) =>
        err ? reject(new Error(`the CLI does not compile:\n${stdout}${stderr}`)) : resolve(),
      );
    });
  });
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliOptions {
  readonly kubeconfig?: string;
  /** helm binary (MMOCTL_HELM). */
  readonly helm?: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** The program to run instead of this checkout's bin/mmoctl.js (an installed package's). */
  readonly bin?: string;
}

/** Runs mmoctl; never rejects on a non-zero exit. helm keeps its state under .tmp/helm-home. */
export function mmoctl(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const home = join(PROJECT_ROOT, '.tmp', 'helm-home');
  mkdirSync(home, { recursive: true });
  const env: Record<string, string | undefined> = {
    ...process.env,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    NO_COLOR: '1',
    FORCE_COLOR: undefined,
    ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}),
    ...(opts.helm ? { MMOCTL_HELM: opts.helm } : {}),
    ...opts.env,
  };
  const [file, argv] = opts.bin ? [opts.bin, [...args]] : [process.execPath, [MMOCTL, ...args]];
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(file, argv, { env, cwd: opts.cwd ?? PROJECT_ROOT, timeout: opts.timeoutMs ?? 240_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** stdout parsed as JSON, with the whole run in the error when it is not JSON. */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`mmoctl did not print JSON (exit ${run.code}):\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
}
