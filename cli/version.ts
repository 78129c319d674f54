/**
 * What `mmoctl version` reports: this package, the chart it ships, helm, Node.js and — when one is
 * configured and answers within a few seconds — the cluster. Nothing here fails the command: a
 * missing helm or an unreachable cluster is reported as such.
 */
import { describeError } from './errors.ts';
import { findHelm } from './helm/binary.ts';
import type { Kube } from './kube/kube.ts';
import { CHART_DIR, CLI_VERSION, readChartMeta } from './package.ts';

export interface VersionReport {
  readonly mmoctl: string;
  readonly chart: { readonly name: string; readonly version: string; readonly appVersion: string; readonly path: string };
  readonly helm: { readonly path: string; readonly version: string } | { readonly error: string };
  readonly cluster: { readonly version: string; readonly server: string; readonly context: string } | { readonly error: string };
  readonly node: string;
}

const CLUSTER_TIMEOUT_MS = 3000;

export async function versionReport(helmFlag: string | undefined, kube: () => Promise<Kube>): Promise<VersionReport> {
  const chart = readChartMeta(CHART_DIR);
  const [helm, cluster] = await Promise.all([
    findHelm(helmFlag).then(
      (b) => ({ path: b.path, version: b.version }),
      (err: unknown) => ({ error: describeError(err) }),
    ),
    clusterVersion(kube),
  ]);
  return { mmoctl: CLI_VERSION, chart: { name: chart.name, version: chart.version, appVersion: chart.appVersion, path: CHART_DIR }, helm, cluster, node: process.version };
}

async function clusterVersion(kube: () => Promise<Kube>): Promise<VersionReport['cluster']> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      (async () => {
        const k = await kube();
        const v = await k.version();
        return { version: v.gitVersion, server: k.identity.server, context: k.identity.context };
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CLUSTER_TIMEOUT_MS / 1000} s`)), CLUSTER_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    return { error: describeError(err) };
  } finally {
    clearTimeout(timer);
  }
}
