import { Flags } from '@oclif/core';
import { MmoctlCommand, parseDuration } from '../base-command.ts';
import type { Kube } from '../kube/kube.ts';
import { chooseMetricsSource } from '../metrics/choose.ts';
import { collectStatus } from '../status/collect.ts';
import { followStatus, liveView } from '../status/follow.ts';
import { statusDocument, type StatusData } from '../status/model.ts';
import { PORT_NAMES } from '../../contract/ports.ts';
import { renderStatus } from '../status/render.ts';
import { statusExitCode, statusReport } from '../status/verdict.ts';

export default class Status extends MmoctlCommand {
  static override summary = 'Show whether players are fine: the release, game servers, scaling, Services, volumes and data services.';
  static override description =
    'Reads everything at once and keeps going when a read fails (it becomes a warning). The verdict is healthy, degraded or down, with every reason and what to do. ' +
    'Exit 0 when healthy, 3 otherwise. --wait reads again every 2 s until healthy; --watch until Ctrl-C. The rules and the JSON document are in docs/cli.md.';
  static override examples = ['<%= config.bin %> status -n game', '<%= config.bin %> status --wait --timeout 5m', '<%= config.bin %> status -o json'];
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
    const metrics = flags.metrics
      ? async (kube: Kube) => {
          const values = (await (await this.helm()).values(this.ref, { all: true }).catch(() => ({}))) as { monitoring?: { namespace?: string } };
          return chooseMetricsSource(kube, this.ref.namespace, { prometheusUrl: flags['prometheus-url'], monitoringNamespace: values.monitoring?.namespace });
        }
      : undefined;
    const collect = async () => {
      const data = await collectStatus(this.ref, { kube: () => this.kube(), helm: () => this.helm(), metrics, metricsWindowMs });
      if (!flags['probe-players']) return statusReport(data);
      const values = (await (await this.helm()).values(this.ref, { all: true }).catch(() => ({}))) as { udp?: { mode?: string } };
      return statusReport({ ...data, probe: await probeFor(data, flags['players-url'], (values.udp?.mode ?? 'disabled') !== 'disabled') });
    };
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
