// Global setup of the `cluster` suite: bring this checkout's rig up once (building its binaries on the
// first run on a machine — tens of minutes, then cached), fetch the pinned helm binaries, and hand the
// tests their kubeconfigs with `inject('rig')` and `inject('helmPaths')`.
//
// Teardown stops the rig only if this run started it. A rig that was already running (e.g. started
// with `npm run rig -- up`) is left alone, and MMOCTL_RIG_KEEP=1 keeps the one this run started, so
// the next run starts in a second instead of ~15.
import type { TestProject } from 'vitest/node';
import { down, up } from '../../scripts/rig/rig.ts';
import { ensureHelm, type HelmMajor } from '../../scripts/setup/helm.ts';
import { buildCli } from '../support/cli.ts';

/** What the tests get about the running rig. */
export interface ProvidedRig {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin kubeconfig path (system:masters). */
  kubeconfig: string;
  /** Kubeconfig path of a ServiceAccount bound to a Role in `restrictedNamespace` only. */
  restrictedKubeconfig: string;
  restrictedNamespace: string;
  kubernetesVersion: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    rig: ProvidedRig;
    /** Absolute paths of the pinned helm binaries, by major version. */
    helmPaths: Record<HelmMajor, string>;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The CLI suites run the compiled mmoctl, as users do.
  await buildCli();
  const [helm3, helm4] = await Promise.all([ensureHelm(3), ensureHelm(4)]).catch((err: unknown) => {
    throw new Error(
      `cluster tests need the pinned helm binaries: ${err instanceof Error ? err.message : String(err)}\n` +
        'Fix: run `npm run setup:helm` once with the npm registry reachable.',
      { cause: err },
    );
  });
  const log = (line: string) => console.error(`[rig] ${line}`);
  const rig = await up({ log }).catch((err: unknown) => {
    throw new Error(
      `cluster tests need the Kubernetes rig and it did not come up: ${err instanceof Error ? err.message : String(err)}\n` +
        'Fix: see docs/testing.md ("The Kubernetes rig"); `npm run rig -- up` shows the same error with logs.',
      { cause: err },
    );
  });
  log(rig.reused ? `reusing the running rig at ${rig.server}` : `rig up in ${(rig.upMs / 1000).toFixed(1)}s at ${rig.server}`);
  project.provide('rig', {
    server: rig.server,
    kubeconfig: rig.kubeconfig,
    restrictedKubeconfig: rig.restrictedKubeconfig,
    restrictedNamespace: rig.restrictedNamespace,
    kubernetesVersion: rig.versions.kubernetes,
  });
  project.provide('helmPaths', { 3: helm3, 4: helm4 });

  return async () => {
    if (rig.reused || process.env.MMOCTL_RIG_KEEP === '1') {
      log(`leaving the rig running (${rig.reused ? 'it was running before this run' : 'MMOCTL_RIG_KEEP=1'}); stop it with: npm run rig -- down`);
      return;
    }
    await down();
  };
}
