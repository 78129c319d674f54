import { Flags } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE, MmoctlCommand } from '../base-command.ts';
import { applyRelease } from '../release/apply.ts';
import { applyFlags, timeoutSeconds } from '../release/flags.ts';
import { releaseFlags, renderApply } from '../release/render.ts';
import { document } from '../ui/output.ts';
import { wantsColor } from '../ui/style.ts';
import { resolveChart } from '../values/chart.ts';
import { valueFlags, valueInputs } from '../values/flags.ts';

export default class Install extends MmoctlCommand {
  static override summary = 'Install the game backend (or bring an existing release to these values), then prove players can connect.';
  static override description =
    'Validates the values, runs the preflight checks (a failure stops it before anything is created), creates the namespace with matching Pod Security labels ' +
    'when asked, installs or upgrades with helm (rolled back if it does not become ready), verifies workloads, endpoints and `helm test`, and prints where players connect. ' +
    'Running it again with the same input changes nothing and says so.';
  static override examples = [
    '<%= config.bin %> install --profile production -n game --create-namespace',
    '<%= config.bin %> install --profile dev -f studio.yaml --set image.repository=registry.example.com/mmo-server --version 1.4.0',
    '<%= config.bin %> install --profile production --dry-run',
  ];
  static override flags = {
    ...valueFlags,
    ...applyFlags,
    'create-namespace': Flags.boolean({ default: false, summary: 'Create the namespace if it does not exist, with Pod Security labels that match the values.' }),
    'probe-players': Flags.boolean({ default: false, summary: 'After verifying, join one bot over TCP and one over UDP through the players\' address and report each hop.' }),
    'players-url': Flags.string({ summary: "With --probe-players: the game's address as players reach it (default: the Ingress host, the LoadBalancer's address or a node port).", dependsOn: ['probe-players'] }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Install);
    const helm = await this.helm();
    const chart = await resolveChart(flags.chart, flags['chart-version'], helm);
    try {
      const result = await applyRelease(
        {
          mode: 'install',
          ref: this.ref,
          chart,
          inputs: valueInputs(flags),
          createNamespace: flags['create-namespace'],
          dryRun: flags['dry-run'],
          skipPreflight: flags['skip-preflight'],
          timeoutSeconds: timeoutSeconds(flags.timeout),
          waitForPlayersEndpoint: flags['wait-for-players-endpoint'],
          reuseValues: false,
          probePlayers: flags['probe-players'] ? { url: flags['players-url'] } : undefined,
        },
        { helm, kube: () => this.kube(), progress: { color: wantsColor(process.stderr, this.global.color) } },
      );
      const flagsText = releaseFlags(result.release, result.namespace, { release: DEFAULT_RELEASE, namespace: DEFAULT_NAMESPACE });
      this.finish({ document: document('InstallResult', result), exitCode: EXIT.ok, human: (s) => renderApply(result, s, flagsText) });
    } finally {
      await chart.dispose();
    }
  }
}
