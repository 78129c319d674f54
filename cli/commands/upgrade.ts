import { Flags, type Interfaces } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE, MmoctlCommand, parseDuration } from '../base-command.ts';
import { CANARY_DEFAULTS } from '../canary/analysis.ts';
import { renderCanary } from '../canary/render.ts';
import { canaryExitCode, runCanary } from '../canary/run.ts';
import type { Helm } from '../helm/helm.ts';
import { chooseMetricsSource } from '../metrics/choose.ts';
import type { ChartSource } from '../values/inputs.ts';
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
    canary: Flags.boolean({ default: false, summary: 'Run the new version as a canary next to stable, judge it on what players feel, then promote it (exit 0) or abort it (exit 3).', helpGroup: 'CANARY' }),
    steps: Flags.integer({ default: 3, min: 1, max: 100, summary: 'Analysis windows that must pass before promotion.', helpGroup: 'CANARY' }),
    interval: Flags.string({ default: '60s', summary: 'Length of one analysis window.', helpGroup: 'CANARY' }),
    'canary-replicas': Flags.integer({ default: 1, min: 1, max: 50, summary: 'Canary pods; they take a share of new players by replica count.', helpGroup: 'CANARY' }),
    'canary-weight': Flags.integer({ min: 0, max: 100, summary: 'With the Istio mesh (mesh.istio.enabled): percent of new WebSocket players sent to the canary, instead of the replica ratio.', helpGroup: 'CANARY' }),
    'max-p95-ms': Flags.integer({ default: CANARY_DEFAULTS.maxP95Ms, min: 1, summary: 'Abort when the canary\'s move→ack p95 is above this (it must also stay within ×1.2 or +10 ms of stable).', helpGroup: 'CANARY' }),
    'max-error-rate': Flags.string({ default: String(CANARY_DEFAULTS.maxRejectedRatio), summary: 'Abort when more than this share of the canary\'s messages is rejected, or of its players drop, above stable\'s.', helpGroup: 'CANARY' }),
    'min-players': Flags.integer({ default: CANARY_DEFAULTS.minPlayers, min: 1, summary: 'A window is judged only with at least this many players on the canary; fewer extends it.', helpGroup: 'CANARY' }),
    'max-extensions': Flags.integer({ min: 0, summary: 'Windows without enough players tolerated before aborting (default: --steps).', helpGroup: 'CANARY' }),
    'prometheus-url': Flags.string({ summary: 'Prometheus to read the game metrics from (default: kube-prometheus-stack\'s in the cluster, else each pod through the API server).', helpGroup: 'CANARY' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Upgrade);
    const helm = await this.helm();
    const chart = await resolveChart(flags.chart, flags['chart-version'], helm);
    try {
      if (flags.canary) return await this.canary(flags, helm, chart);
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

  private async canary(flags: Interfaces.InferredFlags<typeof Upgrade.flags>, helm: Helm, chart: ChartSource): Promise<void> {
    const maxErrorRate = Number(flags['max-error-rate']);
    if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) throw new InvalidInputError(`--max-error-rate ${flags['max-error-rate']}: a share from 0 to 1, e.g. 0.01.`);
    if (flags['reuse-values'] || flags['dry-run']) throw new InvalidInputError('--canary takes neither --reuse-values nor --dry-run: it promotes with the values given, and changes the cluster to judge.');
    const kube = await this.kube();
    const monitoring = (await helm.values(this.ref, { all: true }).catch(() => ({}))) as { monitoring?: { namespace?: string } };
    const chosen = await chooseMetricsSource(kube, this.ref.namespace, { prometheusUrl: flags['prometheus-url'], monitoringNamespace: monitoring.monitoring?.namespace });
    const result = await runCanary(
      {
        ref: this.ref,
        chart,
        inputs: valueInputs(flags),
        steps: flags.steps,
        intervalSeconds: parseDuration(flags.interval, '--interval'),
        maxExtensions: flags['max-extensions'] ?? flags.steps,
        canaryReplicas: flags['canary-replicas'],
        canaryWeight: flags['canary-weight'],
        policy: { ...CANARY_DEFAULTS, maxP95Ms: flags['max-p95-ms'], maxRejectedRatio: maxErrorRate, maxDisconnectRatio: Math.max(maxErrorRate, CANARY_DEFAULTS.maxDisconnectRatio), minPlayers: flags['min-players'] },
        timeoutSeconds: timeoutSeconds(flags.timeout),
        skipPreflight: flags['skip-preflight'],
      },
      { helm, kube, metrics: chosen.source, say: (l) => this.note(`${new Date().toISOString().slice(11, 19)} ${l}`) },
    );
    this.finish({ document: document('CanaryResult', result), exitCode: canaryExitCode(result), human: (s) => renderCanary(result, s) });
  }
}
