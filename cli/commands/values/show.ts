import { stringify } from 'yaml';
import { EXIT } from '../../../contract/exit-codes.ts';
import { MmoctlCommand } from '../../base-command.ts';
import { resolveChart } from '../../values/chart.ts';
import { valueFlags, valueInputs } from '../../values/flags.ts';
import { requireValidValues } from '../../values/validate.ts';
import { document } from '../../ui/output.ts';

export default class ValuesShow extends MmoctlCommand {
  static override summary = 'Print the values a release would get: chart defaults, then the profile, files and sets merged by helm.';
  static override examples = ['<%= config.bin %> values show --profile production', '<%= config.bin %> values show -f studio.yaml -o json'];
  static override flags = { ...valueFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(ValuesShow);
    const helm = await this.helm();
    const chart = await resolveChart(flags.chart, flags['chart-version'], helm);
    try {
      const v = await requireValidValues(helm, chart, valueInputs(flags), this.ref);
      this.finish({ document: document('Values', { values: v.values }), exitCode: EXIT.ok, human: () => stringify(v.values, { lineWidth: 0 }) });
    } finally {
      await chart.dispose();
    }
  }
}
