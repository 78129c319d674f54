import { Flags } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE, MmoctlCommand } from '../base-command.ts';
import { InvalidInputError } from '../errors.ts';
import { applyRelease } from '../release/apply.ts';
import { applyFlags, timeoutSeconds } from '../release/flags.ts';
import { releaseFlags, renderApply } from '../release/render.ts';
import { document } from '../ui/output.ts';
import { wantsColor } from '../ui/style.ts';
import { resolveChart } from '../values/chart.ts';
import { valueFlags, valueInputs } from '../values/flags.ts';

export default class Upgrade extends MmoctlCommand {
  static override summary = 'Upgrade a running release: new game server version, chart or values; rolled back if it does not become ready.';
  static override description =
    'Validates, runs the preflight checks, upgrades with helm (automatic rollback on failure), verifies, and prints the new revision and what changed: images, replicas, value keys. ' +
    'Values start from the chart defaults and the given flags, as with install; --reuse-values starts from the release\'s current values instead.';
  static override examples = [
    '<%= config.bin %> upgrade --version 1.5.0 --profile production -n game',
    '<%= config.bin %> upgrade --reuse-values --set gameServer.config.tickRate=30',
  ];
  static override flags = {
    ...valueFlags,
    ...applyFlags,
    'reuse-values': Flags.boolean({ default: false, summary: "Start from the release's current values and apply the flags on top." }),
    canary: Flags.boolean({ default: false, summary: 'Ship the new version to a canary first and promote it only if players do not notice (not available yet).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Upgrade);
    if (flags.canary) {
      throw new InvalidInputError('--canary is not available in this version of mmoctl: it needs live game metrics to judge the canary.', { hint: 'Upgrade without --canary (rolled back automatically if the new pods do not become ready).' });
    }
    const helm = await this.helm();
    const chart = await resolveChart(flags.chart, flags['chart-version'], helm);
    try {
      const result = await applyRelease(
        {
          mode: 'upgrade',
          ref: this.ref,
          chart,
          inputs: valueInputs(flags),
          createNamespace: false,
          dryRun: flags['dry-run'],
          skipPreflight: flags['skip-preflight'],
          timeoutSeconds: timeoutSeconds(flags.timeout),
          waitForPlayersEndpoint: flags['wait-for-players-endpoint'],
          reuseValues: flags['reuse-values'],
        },
        { helm, kube: () => this.kube(), progress: { color: wantsColor(process.stderr, this.global.color) } },
      );
      const flagsText = releaseFlags(result.release, result.namespace, { release: DEFAULT_RELEASE, namespace: DEFAULT_NAMESPACE });
      this.finish({ document: document('UpgradeResult', result), exitCode: EXIT.ok, human: (s) => renderApply(result, s, flagsText) });
    } finally {
      await chart.dispose();
    }
  }
}
