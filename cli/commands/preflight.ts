import { Flags } from '@oclif/core';
import { MmoctlCommand } from '../base-command.ts';
import { checksExitCode, preflightDocument, renderPreflight, runPreflight } from '../checks/report.ts';
import { resolveChart } from '../values/chart.ts';
import { valueFlags, valueInputs } from '../values/flags.ts';

export default class Preflight extends MmoctlCommand {
  static override summary = 'Check that the cluster can run the release with these values, before anything is changed.';
  static override description =
    'Runs every check (tools, values, cluster, permissions, admission, dependencies, capacity, UDP path) in parallel and reports each one. ' +
    'Changes nothing. Exit 0 when all pass, 4 when some only warn, 3 when one fails. The checks are explained in docs/checks.md.';
  static override examples = ['<%= config.bin %> preflight --profile production -n game', '<%= config.bin %> preflight --profile dev --create-namespace -o json'];
  static override flags = {
    ...valueFlags,
    'create-namespace': Flags.boolean({ default: false, summary: 'Check as for `install --create-namespace`: a missing namespace is fine.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Preflight);
    const helm = await this.helm().catch(() => undefined);
    const chart = await resolveChart(flags.chart, flags['chart-version'], { pull: async (...a) => (await this.helm()).pull(...a) });
    try {
      const report = await runPreflight({
        ref: this.ref,
        chart,
        inputs: valueInputs(flags),
        createNamespace: flags['create-namespace'],
        helm: () => (helm ? Promise.resolve(helm) : this.helm()),
        kube: () => this.kube(),
      });
      this.finish({ document: preflightDocument(report), exitCode: checksExitCode(report.summary), human: (s) => renderPreflight(report, s) });
    } finally {
      await chart.dispose();
    }
  }
}
