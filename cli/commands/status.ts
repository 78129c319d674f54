import { Flags } from '@oclif/core';
import { classify, MmoctlCommand, parseDuration } from '../base-command.ts';
import { InvalidInputError } from '../errors.ts';
import type { Helm } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import { chooseMetricsSource } from '../metrics/choose.ts';
import { clustersDocument, clustersExitCode, renderClusters, type ClusterStatus } from '../status/clusters.ts';
import { collectStatus } from '../status/collect.ts';
import { followStatus, liveView } from '../status/follow.ts';
import { statusDocument, type CostSettings, type StatusData } from '../status/model.ts';
import { PORT_NAMES } from '../../contract/ports.ts';
import { renderStatus } from '../status/render.ts';
import { statusExitCode, statusReport } from '../status/verdict.ts';

export default class Status extends MmoctlCommand {
  static override summary = 'Show whether players are fine: the release, game servers, scaling, Services, volumes and data services.';
  static override description =
    'Reads everything at once and keeps going when a read fails (it becomes a warning). The verdict is healthy, degraded or down, with every reason and what to do. ' +
    'Exit 0 when healthy, 3 otherwise. --wait reads again every 2 s until healthy; --watch until Ctrl-C. The rules and the JSON document are in docs/cli.md.';
  static override examples = [
    '<%= config.bin %> status -n game',
    '<%= config.bin %> status --wait --timeout 5m',
    '<%= config.bin %> status -o json',
    '<%= config.bin %> status --context eu-west --context us-east',
  ];
  static override severalClusters = true;
  static override flags = {
    wait: Flags.boolean({ summary: 'Read again until the release is healthy or --timeout passes; exit 3 if it never is.', exclusive: ['watch'] }),
    timeout: Flags.string({ summary: 'With --wait: how long to wait (90s, 5m, 1h30m; default 5m).', dependsOn: ['wait'] }),
    watch: Flags.boolean({ summary: 'Redraw every 2 s until Ctrl-C.', exclusive: ['wait'] }),
    metrics: Flags.boolean({ default: true, allowNo: true, summary: 'Read the game servers\' own numbers (players, move→ack p95, tick p99); --no-metrics skips them.' }),
    'prometheus-url': Flags.string({ summary: 'Prometheus to read them from (default: kube-prometheus-stack\'s in the cluster, else each pod through the API server).' }),
    'metrics-window': Flags.string({ default: '2s', summary: 'Without Prometheus: read each pod twice this far apart for latency and tick time.' }),
    'probe-players': Flags.boolean({ default: false, summary: 'Also join one bot over TCP and one over UDP through the addresses players use, and report each hop.' }),
    'players-url': Flags.string({ summary: "With --probe-players: the game's address as players reach it (default: the Ingress host, the LoadBalancer's address or a node port).", dependsOn: ['probe-players'] }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const timeoutMs = parseDuration(flags.timeout ?? '5m', '--timeout') * 1000;
    const metricsWindowMs = parseDuration(flags['metrics-window'], '--metrics-window') * 1000;
    /** The report of one cluster, read through its helm and API server. */
    const collectFrom = async (helm: () => Promise<Helm>, kube: () => Promise<Kube>) => {
      // The release's computed values, read once: where its Prometheus lives, its cost settings, its UDP mode.
      let values: Promise<ReleaseValues> | undefined;
      const releaseValues = () => (values ??= helm().then((h) => h.values(this.ref, { all: true })).catch(() => ({})) as Promise<ReleaseValues>);
      const metrics = flags.metrics ? async (k: Kube) => chooseMetricsSource(k, this.ref.namespace, { prometheusUrl: flags['prometheus-url'], monitoringNamespace: (await releaseValues()).monitoring?.namespace }) : undefined;
      const cost = async () => costSettings(await releaseValues());
      const data = await collectStatus(this.ref, { kube, helm, metrics, metricsWindowMs, cost });
      if (!flags['probe-players']) return statusReport(data);
      return statusReport({ ...data, probe: await probeFor(data, flags['players-url'], ((await releaseValues()).udp?.mode ?? 'disabled') !== 'disabled') });
    };

    const contexts = this.global.contexts;
    if (contexts.length > 1) {
      if (flags.wait || flags.watch)
        throw new InvalidInputError(`--${flags.wait ? 'wait' : 'watch'} follows one cluster; ${contexts.length} contexts were given.`, {
          hint: `Follow each on its own, e.g. \`mmoctl status --context ${contexts[0]} --${flags.wait ? 'wait' : 'watch'}\`.`,
        });
      if (flags['players-url'])
        throw new InvalidInputError(`--players-url names one address; ${contexts.length} clusters were given.`, {
          hint: 'Leave it out to probe each cluster at the address its own status finds, or probe one cluster at a time.',
        });
      const clusters = await Promise.all(
        contexts.map(async (context): Promise<ClusterStatus> => {
          const { helm, kube } = this.adaptersFor(context);
          try {
            return { context, report: await collectFrom(helm, kube) };
          } catch (err) {
            const { exitCode, message, hint } = classify(err);
            return { context, error: { exitCode, message, ...(hint ? { hint } : {}) } };
          }
        }),
      );
      this.finish({ document: clustersDocument(clusters), exitCode: clustersExitCode(clusters), human: (s) => renderClusters(clusters, this.ref, s) });
      return;
    }

    const collect = () => collectFrom(() => this.helm(), () => this.kube());
    let report;
    if (flags.wait || flags.watch) {
      const stop = new AbortController();
      const interrupt = () => stop.abort();
      process.once('SIGINT', interrupt);
      const view = liveView(this.global.output, this.global.color);
      report = (await followStatus({ collect, mode: flags.wait ? 'wait' : 'watch', timeoutMs, view, signal: stop.signal }).finally(() => process.off('SIGINT', interrupt))).report;
    } else report = await collect();
    this.finish({ document: statusDocument(report), exitCode: statusExitCode(report), human: (s) => renderStatus(report, s) });
  }
}

/** Probes the players' path at the address players use (an explicit URL, else one status found). */
async function probeFor(data: StatusData, url: string | undefined, udp: boolean): Promise<NonNullable<StatusData['probe']>> {
  const game = data.services.find((s) => s.role === 'players' && !s.missing);
  const port = game?.ports.find((p) => p.name === PORT_NAMES.game);
  const target = url ?? (game?.externalAddresses[0] && port ? `http://${game.externalAddresses[0]}:${port.port}` : undefined);
  if (!target) return { skipped: 'players reach the game through no address mmoctl can see (ClusterIP, no load balancer address yet): give --players-url' };
  const { probePlayers } = await import('../probe/players.ts');
  return probePlayers({ url: target, udp, timeoutMs: 8000 });
}

/** The parts of a release's computed values status reads. */
interface ReleaseValues {
  monitoring?: { namespace?: string };
  udp?: { mode?: string };
  cost?: { enabled?: boolean; currency?: string; cpuHourPrice?: number; gibHourPrice?: number; budgetPerPlayerHour?: number };
}

/** The release's cost settings when `cost.enabled` is on. */
function costSettings(v: ReleaseValues): CostSettings | undefined {
  const c = v.cost;
  if (!c?.enabled) return undefined;
  return { currency: c.currency ?? 'USD', cpuHourPrice: Number(c.cpuHourPrice ?? 0), gibHourPrice: Number(c.gibHourPrice ?? 0), budgetPerPlayerHour: Number(c.budgetPerPlayerHour ?? 0) };
}
