/**
 * The Prometheus metrics of one server process: exactly the metrics named in contract/metrics.ts,
 * on a registry of its own. Hot-path counts (messages by type) live in the world's Traffic arrays
 * and are copied into the counters when Prometheus scrapes.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DISCONNECT_REASONS, METRICS, type DisconnectReason, type MetricSpec } from '../../../contract/metrics.ts';
import type { ErrorCode } from '../../../protocol/errors.ts';
import { TRANSPORTS, type TransportName } from '../../../contract/ports.ts';
import type { Traffic } from '../world/traffic.ts';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly activePlayers: Gauge<string>;
  readonly maxPlayers: Gauge;
  readonly connectionsTotal: Counter<string>;
  readonly tickDuration: Histogram;
  readonly tickOverruns: Counter;
  /** Per transport, resolved once (label lookups cost on the hot path). */
  readonly inputAckLatency: Record<TransportName, { observe(seconds: number): void }>;
  readonly storeSaveDuration: Histogram<string>;
  readonly storeSaveFailures: Counter<string>;
  readonly zoneTransfers: Counter<string>;
  readonly dependencyUp: Gauge<string>;
  readonly draining: Gauge;
  readonly buildInfo: Gauge<string>;
  /** Counts one rejected inbound message by reason. */
  rejected(reason: ErrorCode): void;
  /** Counts one player leaving the game. */
  disconnected(transport: TransportName, reason: DisconnectReason): void;
}


/** Creates the registry; `traffic` feeds the message counters at scrape time. */
export function createMetrics(traffic: Traffic): ServerMetrics {
  const registry = new Registry();
  const config = (spec: MetricSpec) => ({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] });
  const inSeen = new Map<string, number>();
  const outSeen = new Map<string, number>();
  const syncTraffic = (counter: Counter<string>, direction: 'in' | 'out', seen: Map<string, number>): void => {
    for (const row of traffic.rows(direction)) {
      const key = `${row.transport}/${row.type}`;
      const delta = row.count - (seen.get(key) ?? 0);
      if (delta > 0) {
        counter.labels({ type: row.type, transport: row.transport }).inc(delta);
        seen.set(key, row.count);
      }
    }
  };
  // Registered through `registers` and read only by their collect(), at scrape time.
  new Counter({
    ...config(METRICS.messagesIn),
    collect() {
      syncTraffic(this as Counter<string>, 'in', inSeen);
    },
  });
  new Counter({
    ...config(METRICS.messagesOut),
    collect() {
      syncTraffic(this as Counter<string>, 'out', outSeen);
    },
  });
  const rejectedCounter = new Counter({ ...config(METRICS.messagesRejected) });
  const rejectedChildren = new Map<string, { inc(): void }>();
  const inputAck = new Histogram({ ...config(METRICS.inputAckLatency), buckets: [...METRICS.inputAckLatency.buckets] });
  const connectionsTotal = new Counter({ ...config(METRICS.connectionsTotal) });
  for (const t of TRANSPORTS) connectionsTotal.labels({ transport: t }).inc(0);
  // Every (transport, reason) exists from the start at 0, so a rate over a window always has both ends.
  const disconnects = new Counter({ ...config(METRICS.disconnects) });
  const disconnectChildren = Object.fromEntries(
    TRANSPORTS.map((t) => [t, Object.fromEntries(DISCONNECT_REASONS.map((r) => { const c = disconnects.labels({ transport: t, reason: r }); c.inc(0); return [r, c]; }))]),
  ) as Record<TransportName, Record<DisconnectReason, { inc(): void }>>;
  return {
    registry,
    activePlayers: new Gauge({ ...config(METRICS.activePlayers) }),
    maxPlayers: new Gauge({ ...config(METRICS.maxPlayers) }),
    connectionsTotal,
    tickDuration: new Histogram({ ...config(METRICS.tickDuration), buckets: [...METRICS.tickDuration.buckets] }),
    tickOverruns: new Counter({ ...config(METRICS.tickOverruns) }),
    inputAckLatency: { ws: inputAck.labels({ transport: 'ws' }), udp: inputAck.labels({ transport: 'udp' }) },
    storeSaveDuration: new Histogram({ ...config(METRICS.storeSaveDuration), buckets: [...METRICS.storeSaveDuration.buckets] }),
    storeSaveFailures: new Counter({ ...config(METRICS.storeSaveFailures) }),
    zoneTransfers: new Counter({ ...config(METRICS.zoneTransfers) }),
    dependencyUp: new Gauge({ ...config(METRICS.dependencyUp) }),
    draining: new Gauge({ ...config(METRICS.draining) }),
    buildInfo: new Gauge({ ...config(METRICS.buildInfo) }),
    disconnected(transport, reason) {
      disconnectChildren[transport][reason].inc();
    },
    rejected(reason) {
      let child = rejectedChildren.get(reason);
      if (!child) {
        child = rejectedCounter.labels({ reason });
        rejectedChildren.set(reason, child);
      }
      child.inc();
    },
  };
}
