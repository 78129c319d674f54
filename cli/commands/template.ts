import { Flags } from '@oclif/core';
import { parseAllDocuments } from 'yaml';
import { EXIT } from '../../contract/exit-codes.ts';
import { MmoctlCommand } from '../base-command.ts';
import { resolveChart } from '../values/chart.ts';
import { valueFlags, valueInputs } from '../values/flags.ts';
import { OPTIONAL_API_VERSIONS, OFFLINE_KUBE_VERSION, requireValidValues } from '../values/validate.ts';
import { document } from '../ui/output.ts';

export default class Template extends MmoctlCommand {
  static override summary = 'Render the manifests install would apply, offline (values checked first).';
  static override description =
    'Takes the same value flags as install. Renders for Kubernetes ' + OFFLINE_KUBE_VERSION + ' with the prometheus-operator kinds available unless told otherwise; generated passwords differ on every run (install keeps the live ones).';
  static override examples = ['<%= config.bin %> template --profile production > manifests.yaml', '<%= config.bin %> template --profile dev -o json'];
  static override flags = {
    ...valueFlags,
    'kube-version': Flags.string({ summary: `Kubernetes version to render for (default ${OFFLINE_KUBE_VERSION}).` }),
    'api-versions': Flags.string({ multiple: true, summary: 'Kinds the cluster serves, as group/version/Kind (default: the prometheus-operator kinds).' }),
    'skip-tests': Flags.boolean({ default: false, summary: 'Leave out the helm test pod.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Template);
    const helm = await this.helm();
    const chart = await resolveChart(flags.chart, flags['chart-version'], helm);
    try {
      const v = await requireValidValues(helm, chart, valueInputs(flags), this.ref);
      const text = await helm.template(this.ref, v.request, {
        kubeVersion: flags['kube-version'] ?? OFFLINE_KUBE_VERSION,
        apiVersions: flags['api-versions'] ?? OPTIONAL_API_VERSIONS,
        includeTests: !flags['skip-tests'],
      });
      this.finish({
        document: document('Manifests', { objects: parseAllDocuments(text).map((d) => d.toJS() as unknown).filter((o) => o && typeof o === 'object') }),
        exitCode: EXIT.ok,
        human: () => text,
      });
    } finally {
      await chart.dispose();
    }
  }
}
