/**
 * Which chart a command works with: the one inside this package, or `--chart REF` — a chart
 * directory, a packaged `.tgz`, or a repository/OCI reference that helm pulls. Packaged and remote
 * charts are unpacked into a temporary directory, because validation reads the chart's own files
 * (values.yaml, values.schema.json); the caller removes it with `dispose()`.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInputError, describeError } from '../errors.ts';
import type { Helm } from '../helm/helm.ts';
import { CHART_DIR } from '../package.ts';
import type { ChartSource } from './inputs.ts';

export interface ResolvedChart extends ChartSource {
  dispose(): Promise<void>;
}

const nothing = async (): Promise<void> => {};

/** The chart for `--chart` (undefined: the bundled one), ready on disk. */
export async function resolveChart(ref: string | undefined, chartVersion: string | undefined, helm: Pick<Helm, 'pull'>): Promise<ResolvedChart> {
  if (!ref) return { ref: CHART_DIR, dir: CHART_DIR, bundled: true, dispose: nothing };
  const local = resolve(ref);
  if (existsSync(local) && statSync(local).isDirectory()) {
    if (!existsSync(join(local, 'Chart.yaml'))) throw new InvalidInputError(`--chart ${ref}: the directory has no Chart.yaml, so it is not a chart.`, { hint: 'Give a chart directory, a packaged chart (.tgz) or a repository reference such as oci://registry/charts/mmo.' });
    return { ref: local, dir: local, bundled: false, dispose: nothing };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'mmoctl-chart-'));
  const dispose = () => rm(tmp, { recursive: true, force: true });
  try {
    if (existsSync(local)) await (await import('tar')).extract({ file: local, cwd: tmp });
    else if (/^(oci:\/\/|https?:\/\/)|^[\w.-]+\/[\w.-]+$/.test(ref)) await helm.pull(ref, chartVersion, tmp);
    else throw new InvalidInputError(`--chart ${ref}: no such file or directory, and not a repository reference.`, { hint: 'Give a chart directory, a packaged chart (.tgz), repo/chart (after `helm repo add`) or oci://registry/path/chart.' });
    const [dirName] = (await readdir(tmp, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    if (!dirName || !existsSync(join(tmp, dirName, 'Chart.yaml'))) throw new InvalidInputError(`--chart ${ref}: the archive holds no chart (no <name>/Chart.yaml inside).`);
    const dir = join(tmp, dirName);
    return { ref: dir, dir, bundled: false, dispose };
  } catch (err) {
    await dispose();
    if (err instanceof InvalidInputError) throw err;
    throw new InvalidInputError(`--chart ${ref}: could not get the chart: ${describeError(err)}`, { cause: err });
  }
}
