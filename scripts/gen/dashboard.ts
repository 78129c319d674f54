/**
 * Writes charts/mmo/files/dashboard.json: the Grafana dashboard the chart ships (monitoring.dashboard),
 * built from the metric names in contract/metrics.ts so a renamed metric can't leave a dead panel.
 * Panels follow the capacity plan's dashboard: players, latency p95/p99 against the 100 ms target,
 * throughput, errors (rejections), resources, replicas, network, storage, plus tick health.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { METRICS, RECORDED } from '../../contract/metrics.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

export const DASHBOARD_PATH = join(PROJECT_ROOT, 'charts', 'mmo', 'files', 'dashboard.json');

const SEL = 'namespace="$namespace"';
const M = Object.fromEntries(Object.entries(METRICS).map(([k, v]) => [k, v.name])) as { [K in keyof typeof METRICS]: string };

interface Target {
  expr: string;
  legendFormat: string;
}

interface PanelSpec {
  title: string;
  type: 'stat' | 'timeseries';
  unit?: string;
  targets: Target[];
  /** Threshold steps after the base green: [value, color]. */
  thresholds?: [number, string][];
  description: string;
}

const panels: PanelSpec[] = [
  {
    title: 'Players online',
    type: 'stat',
    description: 'Players connected to all game servers of the namespace.',
    targets: [{ expr: `sum(${M.activePlayers}{${SEL}})`, legendFormat: 'players' }],
  },
  {
    title: 'Players by transport',
    type: 'timeseries',
    description: 'UDP (WebRTC) versus TCP (WebSocket) players.',
    targets: [{ expr: `sum by (transport) (${M.activePlayers}{${SEL}})`, legendFormat: '{{transport}}' }],
  },
  {
    title: 'Players per pod (of capacity)',
    type: 'timeseries',
    unit: 'percentunit',
    description: 'Each pod\'s players over its MMO_MAX_PLAYERS; the autoscaler should act before 100 %.',
    thresholds: [[0.8, 'yellow'], [0.9, 'red']],
    targets: [
      {
        expr: `sum by (pod) (${M.activePlayers}{${SEL}}) / on (pod) max by (pod) (${M.maxPlayers}{${SEL}})`,
        legendFormat: '{{pod}}',
      },
    ],
  },
  {
    title: 'Input to ack latency p95 / p99',
    type: 'timeseries',
    unit: 's',
    description: 'Round trip of a move to its acknowledgement, as clients report it. Target: p95 < 100 ms.',
    thresholds: [[0.1, 'yellow'], [0.5, 'red']],
    targets: [
      { expr: `histogram_quantile(0.95, sum by (le, transport) (rate(${M.inputAckLatency}_bucket{${SEL}}[5m])))`, legendFormat: 'p95 {{transport}}' },
      { expr: `histogram_quantile(0.99, sum by (le, transport) (rate(${M.inputAckLatency}_bucket{${SEL}}[5m])))`, legendFormat: 'p99 {{transport}}' },
    ],
  },
  {
    title: 'Messages per second',
    type: 'timeseries',
    unit: 'reqps',
    description: 'Messages received from and sent to players.',
    targets: [
      { expr: `sum(rate(${M.messagesIn}{${SEL}}[5m]))`, legendFormat: 'received' },
      { expr: `sum(rate(${M.messagesOut}{${SEL}}[5m]))`, legendFormat: 'sent' },
    ],
  },
  {
    title: 'Rejected messages',
    type: 'timeseries',
    unit: 'percentunit',
    description: 'Share of inbound messages rejected before reaching the world, by reason.',
    thresholds: [[0.01, 'yellow'], [0.05, 'red']],
    targets: [
      {
        expr: `sum by (reason) (rate(${M.messagesRejected}{${SEL}}[5m])) / scalar(sum(rate(${M.messagesIn}{${SEL}}[5m])))`,
        legendFormat: '{{reason}}',
      },
    ],
  },
  {
    title: 'Tick duration p95 and overruns',
    type: 'timeseries',
    unit: 's',
    description: 'Time to simulate and broadcast one tick, and ticks that took longer than their interval.',
    targets: [
      { expr: `histogram_quantile(0.95, sum by (le, pod) (rate(${M.tickDuration}_bucket{${SEL}}[5m])))`, legendFormat: 'p95 {{pod}}' },
      { expr: `sum by (pod) (rate(${M.tickOverruns}{${SEL}}[5m]))`, legendFormat: 'overruns/s {{pod}}' },
    ],
  },
  {
    title: 'CPU and memory of game servers',
    type: 'timeseries',
    unit: 'percentunit',
    description: 'Usage over limits, averaged over game server pods.',
    targets: [
      {
        expr: `avg(rate(container_cpu_usage_seconds_total{${SEL}, container="server"}[5m])) / avg(kube_pod_container_resource_limits{${SEL}, container="server", resource="cpu"})`,
        legendFormat: 'cpu',
      },
      {
        expr: `avg(container_memory_working_set_bytes{${SEL}, container="server"}) / avg(kube_pod_container_resource_limits{${SEL}, container="server", resource="memory"})`,
        legendFormat: 'memory',
      },
    ],
  },
  {
    title: 'Game server pods',
    type: 'timeseries',
    description: 'Pods by version: a canary shows up as a second line.',
    targets: [{ expr: `count by (version) (${M.buildInfo}{${SEL}})`, legendFormat: '{{version}}' }],
  },
  {
    title: 'Network',
    type: 'timeseries',
    unit: 'binBps',
    description: 'Bytes received and sent by game server pods.',
    targets: [
      { expr: `sum(rate(container_network_receive_bytes_total{${SEL}, pod=~".*-server-.*"}[5m]))`, legendFormat: 'in' },
      { expr: `sum(rate(container_network_transmit_bytes_total{${SEL}, pod=~".*-server-.*"}[5m]))`, legendFormat: 'out' },
    ],
  },
  {
    title: 'Store save latency p95',
    type: 'timeseries',
    unit: 's',
    description: 'Time to commit one batch of character saves.',
    targets: [{ expr: `histogram_quantile(0.95, sum by (le, kind) (rate(${M.storeSaveDuration}_bucket{${SEL}}[5m])))`, legendFormat: '{{kind}}' }],
  },
  {
    title: 'Store save failures',
    type: 'timeseries',
    unit: 'ops',
    description: 'Character saves that failed, by kind. Failed batches are kept and retried, but while this is above 0 progress since the last good save would be lost with the pod.',
    thresholds: [[0.001, 'red']],
    targets: [{ expr: `sum by (kind) (rate(${M.storeSaveFailures}{${SEL}}[5m]))`, legendFormat: '{{kind}}' }],
  },
  {
    title: 'Connections and zone transfers',
    type: 'timeseries',
    unit: 'ops',
    description: 'Player connections accepted per second by transport, and players handed to (out) or received from (in) another process on a zone change; out well above in means transferred players do not arrive.',
    targets: [
      { expr: `sum by (transport) (rate(${M.connectionsTotal}{${SEL}}[5m]))`, legendFormat: 'connections {{transport}}' },
      { expr: `sum by (direction) (rate(${M.zoneTransfers}{${SEL}}[5m]))`, legendFormat: 'transfers {{direction}}' },
    ],
  },
  {
    title: 'Players leaving',
    type: 'timeseries',
    unit: 'ops',
    description: 'Players leaving per second, by reason: left (they closed or reconnected elsewhere) is normal; lost (broken connections), slow (stopped reading) and kicked (refused by the server) are what players did not choose.',
    targets: [{ expr: `sum by (reason) (rate(${M.disconnects}{${SEL}}[5m]))`, legendFormat: '{{reason}}' }],
  },
  {
    title: 'Dependencies up',
    type: 'timeseries',
    description: '1 when the store, presence and bus answer, per pod.',
    targets: [
      { expr: `min by (dependency) (${M.dependencyUp}{${SEL}})`, legendFormat: '{{dependency}}' },
      { expr: `sum(${M.draining}{${SEL}})`, legendFormat: 'pods draining' },
    ],
  },
  {
    title: 'Cost per player-hour',
    type: 'timeseries',
    description: "What the game servers request (CPU and memory at cost.cpuHourPrice and cost.gibHourPrice) per connected player and hour, in cost.currency; the alert fires above cost.budgetPerPlayerHour. Empty unless cost.enabled (the chart's recording rules), and while nobody plays.",
    targets: [
      { expr: `${RECORDED.costPerPlayerHour}{${SEL}}`, legendFormat: 'per player-hour {{region}}' },
      { expr: `${RECORDED.requestedCostPerHour}{${SEL}}`, legendFormat: 'game servers per hour {{region}}' },
    ],
  },
];

/** The dashboard as Grafana's JSON model. */
export function buildDashboard(): unknown {
  return {
    title: 'mmo game servers',
    uid: 'mmo-game-servers',
    tags: ['mmo', 'game-server'],
    timezone: 'utc',
    schemaVersion: 39,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
        {
          name: 'namespace',
          type: 'query',
          label: 'Namespace',
          datasource: { type: 'prometheus', uid: '${datasource}' },
          query: `label_values(${M.buildInfo}, namespace)`,
          refresh: 2,
        },
      ],
    },
    panels: panels.map((p, i) => ({
      id: i + 1,
      title: p.title,
      description: p.description,
      type: p.type,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      fieldConfig: {
        defaults: {
          ...(p.unit ? { unit: p.unit } : {}),
          thresholds: {
            mode: 'absolute',
            steps: [{ color: 'green', value: null }, ...(p.thresholds ?? []).map(([value, color]) => ({ color, value }))],
          },
        },
        overrides: [],
      },
      targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), expr: t.expr, legendFormat: t.legendFormat })),
    })),
  };
}

/** Text of dashboard.json. */
export function renderDashboard(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

if (import.meta.main) {
  await writeFile(DASHBOARD_PATH, renderDashboard());
  process.stdout.write(`wrote ${DASHBOARD_PATH}\n`);
}
