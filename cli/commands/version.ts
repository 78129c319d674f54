import { EXIT } from '../../contract/exit-codes.ts';
import { MmoctlCommand } from '../base-command.ts';
import { document } from '../ui/output.ts';
import { versionReport } from '../version.ts';

export default class Version extends MmoctlCommand {
  static override summary = 'Show the versions of mmoctl, its chart, helm and the cluster.';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version -o json'];

  async run(): Promise<void> {
    await this.parse(Version);
    const report = await versionReport(this.global.helm, () => this.kube());
    this.finish({
      document: document('Version', report),
      exitCode: EXIT.ok,
      human: (s) => {
        const rows: [string, string][] = [
          ['mmoctl', report.mmoctl],
          ['chart', `${report.chart.name} ${report.chart.version} (game server ${report.chart.appVersion})`],
          ['helm', 'error' in report.helm ? s.warn(report.helm.error) : `${report.helm.version} ${s.dim(report.helm.path)}`],
          ['cluster', 'error' in report.cluster ? s.dim(`not reached: ${report.cluster.error}`) : `${report.cluster.version} ${s.dim(`${report.cluster.server} (context ${report.cluster.context})`)}`],
          ['node', report.node],
        ];
        return rows.map(([k, v]) => `${k.padEnd(8)} ${v}`).join('\n');
      },
    });
  }
}
