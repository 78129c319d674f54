/**
 * Prometheus metrics exported by the game server. The server registers exactly these; the chart's
 * alerts and dashboard, and the CLI's canary analysis, query them by these names.
 */
export const METRIC_PREFIX = 'game_server_';

export interface MetricSpec {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
  /** Histogram bucket upper bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5];
const TICK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.1, 0.25];

export const METRICS = {
  activePlayers: {
    name: 'game_server_active_players',
    type: 'gauge',
    help: 'Players connected to this process, by zone and transport.',
    labels: ['zone', 'transport'],
  },
  maxPlayers: {
    name: 'game_server_max_players',
    type: 'gauge',
    help: 'Players this process accepts before refusing new ones (MMO_MAX_PLAYERS).',
    labels: [],
  },
  connectionsTotal: {
    name: 'game_server_connections_total',
    type: 'counter',
    help: 'Player connections accepted, by transport.',
    labels: ['transport'],
  },
  tickDuration: {
    name: 'game_server_tick_duration_seconds',
    type: 'histogram',
    help: 'Time spent simulating and broadcasting one world tick.',
    labels: [],
    buckets: TICK_BUCKETS,
  },
  tickOverruns: {
    name: 'game_server_tick_overruns_total',
    type: 'counter',
    help: 'Ticks that took longer than the tick interval.',
    labels: [],
  },
  inputAckLatency: {
    name: 'game_server_input_ack_latency_seconds',
    type: 'histogram',
    help: 'Round trip from a client move to its acknowledgement, as reported by clients in ping/move.',
    labels: ['transport'],
    buckets: LATENCY_BUCKETS,
  },
  messagesIn: {
    name: 'game_server_messages_received_total',
    type: 'counter',
    help: 'Messages received from players, by message type and transport.',
    labels: ['type', 'transport'],
  },
  messagesOut: {
    name: 'game_server_messages_sent_total',
    type: 'counter',
    help: 'Messages sent to players, by message type and transport.',
    labels: ['type', 'transport'],
  },
  messagesRejected: {
    name: 'game_server_messages_rejected_total',
    type: 'counter',
    help: 'Inbound messages rejected before reaching the world, by reason (error code).',
    labels: ['reason'],
  },
  storeSaveDuration: {
    name: 'game_server_store_save_duration_seconds',
    type: 'histogram',
    help: 'Time to commit one batch of character saves.',
    labels: ['kind'],
    buckets: LATENCY_BUCKETS,
  },
  storeSaveFailures: {
    name: 'game_server_store_save_failures_total',
    type: 'counter',
    help: 'Character saves that failed (kept and retried with the next batch), by kind.',
    labels: ['kind'],
  },
  disconnects: {
    name: 'game_server_disconnects_total',
    type: 'counter',
    help: 'Players who left the game, by transport and reason: left (the player closed or reconnected elsewhere), lost (the connection broke), slow (it stopped reading), kicked (the server refused it). The canary analysis judges lost + slow + kicked.',
    labels: ['transport', 'reason'],
  },
  zoneTransfers: {
    name: 'game_server_zone_transfers_total',
    type: 'counter',
    help: 'Players handed to (out) or received from (in) another process on a zone change.',
    labels: ['direction'],
  },
  dependencyUp: {
    name: 'game_server_dependency_up',
    type: 'gauge',
    help: '1 when a configured dependency (store, presence, bus) is reachable, else 0.',
    labels: ['dependency'],
  },
  draining: {
    name: 'game_server_draining',
    type: 'gauge',
    help: '1 while the process drains players before exiting, else 0.',
    labels: [],
  },
  buildInfo: {
    name: 'game_server_build_info',
    type: 'gauge',
    help: 'Always 1; labels carry the server and protocol versions.',
    labels: ['version', 'protocol', 'node'],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Reasons of `game_server_disconnects_total`; all but `left` are ones the player did not choose. */
export const DISCONNECT_REASONS = ['left', 'lost', 'slow', 'kicked'] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/**
 * Series the chart's recording rules write (the PrometheusRule, with cost.enabled): they hold the
 * game servers' cost, so `mmoctl status` and dashboards read one definition instead of repeating the
 * arithmetic. Both carry `namespace` (the release's) and, with region.name set, `region`.
 */
export const RECORDED = {
  /** What the release's game server pods request per hour (CPU cores × cost.cpuHourPrice + GiB × cost.gibHourPrice). */
  requestedCostPerHour: 'namespace:game_server_requested_cost_per_hour:sum',
  /** requestedCostPerHour over the players connected; absent while nobody plays. In cost.currency. */
  costPerPlayerHour: 'namespace:game_server_cost_per_player_hour:ratio',
} as const;
