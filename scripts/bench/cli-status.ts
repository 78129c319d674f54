/**
 * `mmoctl status` next to `helm status` on the same release, in the same run (target: ratio ≤ 1.5),
 * with what the difference is made of. `npm run bench:cli` calls `benchStatusVsHelm` on its
 * production install. Each round runs, one after the other so load changes hit them alike:
 * `helm status`; `mmoctl status -o json` (which also reports its own collect time); `helm status
 * --show-resources` (helm's nearest equivalent); `mmoctl status --no-such-flag` (the CLI's start-up
 * floor: Node.js, oclif, the command modules, no cluster).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../lib/root.ts';

const run = promisify(execFile);

export interface StatusBenchOptions {
  readonly kubeconfig: string;
  /** helm binary. */
  readonly helm: string;
  readonly namespace: string;
  readonly release: string;
  readonly rounds: number;
  /** Environment of every run, on top of this process's (helm's state directories, HOME). */
  readonly env?: Record<string, string | undefined>;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Milliseconds of each run, by measure (`mmoctlCollect`: the `durationMs` status reports; `helmStatusResources` empty with helm 4). */
export type StatusBenchResult = Record<'helmStatus' | 'helmStatusResources' | 'mmoctlStatus' | 'mmoctlStartup' | 'mmoctlCollect', number[]>;

/** Runs each measure once per round, alternating, and returns every time. */
export async function benchStatusVsHelm(o: StatusBenchOptions): Promise<StatusBenchResult> {
  const env = { ...process.env, ...o.env, KUBECONFIG: o.kubeconfig, MMOCTL_HELM: o.helm, NO_COLOR: '1' };
  const time = async (file: string, args: string[], okCodes = [0]): Promise<{ ms: number; stdout: string }> => {
    const t0 = performance.now();
    try {
      const { stdout } = await run(file, args, { env, maxBuffer: 64 * 1024 * 1024 });
      return { ms: performance.now() - t0, stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      if (typeof e.code === 'number' && okCodes.includes(e.code)) return { ms: performance.now() - t0, stdout: e.stdout ?? '' };
      throw new Error(`${file} ${args.join(' ')} failed (${e.code}): ${e.stderr ?? ''}`, { cause: err });
    }
  };
  const bin = join(PROJECT_ROOT, 'bin', 'mmoctl.js');
  const ref = ['-n', o.namespace];
  const ms: StatusBenchResult = { helmStatus: [], helmStatusResources: [], mmoctlStatus: [], mmoctlStartup: [], mmoctlCollect: [] };
  // One unmeasured round: the compile cache and the page cache are warm for every measured one.
  await time(o.helm, ['status', o.release, ...ref]);
  // helm 4 has no --show-resources (its status lists the resources anyway): that measure stays empty.
  const showResources = await time(o.helm, ['status', o.release, ...ref, '--show-resources']).then(() => true, () => false);
  await time(process.execPath, [bin, 'status', '--release', o.release, ...ref, '-o', 'json'], [0, 3]);
  for (let r = 1; r <= o.rounds; r++) {
    ms.helmStatus.push((await time(o.helm, ['status', o.release, ...ref])).ms);
    const status = await time(process.execPath, [bin, 'status', '--release', o.release, ...ref, '-o', 'json'], [0, 3]);
    ms.mmoctlStatus.push(status.ms);
    ms.mmoctlCollect.push((JSON.parse(status.stdout) as { durationMs: number }).durationMs);
    if (showResources) ms.helmStatusResources.push((await time(o.helm, ['status', o.release, ...ref, '--show-resources'])).ms);
    ms.mmoctlStartup.push((await time(process.execPath, [bin, 'status', '--no-such-flag'], [2])).ms);
    o.log?.(`round ${r}: helm status ${ms.helmStatus.at(-1)!.toFixed(0)} ms, mmoctl status ${ms.mmoctlStatus.at(-1)!.toFixed(0)} ms`);
  }
  return ms;
}
