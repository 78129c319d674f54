import { EXIT } from '../../../contract/exit-codes.ts';
import { MmoctlCommand } from '../../base-command.ts';
import { renderError } from '../../ui/problems.ts';
import { resolveChart } from '../../values/chart.ts';
import { valueFlags, valueInputs } from '../../values/flags.ts';
import { validateValues } from '../../values/validate.ts';
import { document } from '../../ui/output.ts';

export default class ValuesValidate extends MmoctlCommand {
  static override summary = 'Check values against the chart: schema and cross-field rules, every problem with its key, where it was written and a fix.';
  static override description = 'Nothing is sent to a cluster. Exit 0 when the values are valid, 2 when not.';
  static override examples = ['<%= config.bin %> values validate --profile production -f studio.yaml', '<%= config.bin %> values validate --set gameServer.replicas=3 -o json'];
  static override flags = { ...valueFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(ValuesValidate);
    const helm = await this.helm();
    const chart = await resolveChart(flags.chart, flags['chart-version'], helm);
    try {
      const inputs = valueInputs(flags);
      const v = await validateValues(helm, chart, inputs, this.ref);
      const valid = v.problems.length === 0;
      const files = [...(inputs.profile ? [`--profile ${inputs.profile}`] : []), ...inputs.files];
      this.finish({
        document: document('ValuesValidation', { valid, inputs: { files, sets: inputs.sets.map((s) => `${s.flag} ${s.value}`) }, problems: v.problems }),
        exitCode: valid ? EXIT.ok : EXIT.invalidInput,
        human: (s) =>
          valid
            ? `${s.mark('pass')} the values are valid${files.length ? ` (${files.join(', ')})` : ''}`
            : renderError(`The values are not valid (${v.problems.length} ${v.problems.length === 1 ? 'problem' : 'problems'}).`, 'Every value is described in docs/values.md.', v.problems, s),
      });
    } finally {
      await chart.dispose();
    }
  }
}
