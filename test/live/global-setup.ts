// Global setup of the `live` suite: this checkout's PostgreSQL, Redis and RabbitMQ (the game server
// pods' data services), its *live* rig — pods labelled mmo.dev/rig-run=process run as processes in
// network namespaces on the rig's bridge, a real Prometheus scrapes them — the pinned helm binaries
// and the compiled CLI. Tests get them with `inject('liveRig')` and `inject('helmPaths')`.
//
// The live rig needs root and Debian's containernetworking-plugins, iptables and prometheus: a
// machine without them fails the suite here, saying what to install (never a skip). Teardown stops
// the rig and the services only if this run started them (MMOCTL_RIG_KEEP=1 keeps the rig).
import type { TestProject } from 'vitest/node';
import type { LiveRigInfo } from '../../scripts/rig/live/live.ts';
import { down, up } from '../../scripts/rig/rig.ts';
import { SERVICE_NAMES, Services } from '../../scripts/services/services.ts';
import { ensureHelm, type HelmMajor } from '../../scripts/setup/helm.ts';
import { buildCli } from '../support/cli.ts';

export interface ProvidedLiveRig {
  server: string;
  kubeconfig: string;
  kubernetesVersion: string;
  stateDir: string;
  live: LiveRigInfo;
}

declare module 'vitest' {
  export interface ProvidedContext {
    liveRig: ProvidedLiveRig;
    helmPaths: Record<HelmMajor, string>;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildCli();
  const [helm3, helm4] = await Promise.all([ensureHelm(3), ensureHelm(4)]).catch((err: unknown) => {
    throw new Error(`the live suite needs the pinned helm binaries: ${String(err)}\nFix: run \`npm run setup:helm\` once with the npm registry reachable.`, { cause: err });
  });
  const services = new Services();
  const servicesBefore = await services.status().catch(() => undefined);
  await services.up().catch((err: unknown) => {
    throw new Error(`the live suite's pods need PostgreSQL, Redis and RabbitMQ and they did not start: ${String(err)}\nTry \`npm run services -- up\` to see the failure alone.`, { cause: err });
  });
  const log = (line: string) => console.error(`[live rig] ${line}`);
  const rig = await up({ log, live: true }).catch((err: unknown) => {
    throw new Error(
      `the live suite needs the live rig and it did not come up: ${err instanceof Error ? err.message : String(err)}\n` +
        'Fix: see docs/testing.md ("The live rig"); `npm run rig -- up --live` shows the same error with logs.',
      { cause: err },
    );
  });
  if (!rig.live) throw new Error(`the rig at ${rig.stateDir} is not live`);
  log(rig.reused ? `reusing the running live rig at ${rig.server}` : `live rig up in ${(rig.upMs / 1000).toFixed(1)}s at ${rig.server}`);
  project.provide('liveRig', { server: rig.server, kubeconfig: rig.kubeconfig, kubernetesVersion: rig.versions.kubernetes, stateDir: rig.stateDir, live: rig.live });
  project.provide('helmPaths', { 3: helm3, 4: helm4 });

  return async () => {
    if (rig.reused || process.env.MMOCTL_RIG_KEEP === '1') {
      log(`leaving the live rig running; stop it with: npm run rig -- down`);
    } else {
      await down({ live: true, log });
    }
    for (const name of SERVICE_NAMES) if (!servicesBefore?.[name]) await services.stop(name);
  };
}
