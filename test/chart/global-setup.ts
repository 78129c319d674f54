// Global setup of the `chart` suite: make sure both pinned helm majors are in the project before any
// test runs, and hand their paths to the tests (`inject('helmPaths')`).
import type { TestProject } from 'vitest/node';
import { ensureHelm, type HelmMajor } from '../../scripts/setup/helm.ts';
import { buildCli } from '../support/cli.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute paths of the pinned helm binaries, by major version. */
    helmPaths: Record<HelmMajor, string>;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  // The chart suite also checks values the way users do, through the compiled mmoctl.
  await buildCli();
  try {
    const [helm3, helm4] = await Promise.all([ensureHelm(3), ensureHelm(4)]);
    project.provide('helmPaths', { 3: helm3, 4: helm4 });
  } catch (err) {
    throw new Error(
      `chart tests need the pinned helm binaries and could not get them: ${err instanceof Error ? err.message : String(err)}\n` +
        'Fix: run `npm run setup:helm` with the npm registry reachable once; afterwards it works offline.',
      { cause: err },
    );
  }
}
