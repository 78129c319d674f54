/**
 * Watching a rollout of game servers from the players' side: which pods were replaced, how many
 * players each had when it started draining (they are told to reconnect and land on the others), and
 * how long each drain took. Also the arithmetic that warns before a rollout when the pods left
 * serving could not hold the players.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../contract/labels.ts';
import type { ReleaseRef } from '../helm/helm.ts';
import type { Kube } from '../kube/kube.ts';
import type { MetricsSource } from '../metrics/source.ts';
import { playersByPod, type PodState, type Snapshot } from '../metrics/window.ts';
import { gameServerSelector } from './endpoints.ts';

export interface DrainRecord {
  readonly pod: string;
  readonly track: string;
  /** Players on the pod when it began to drain (null when its metrics were unknown). */
  readonly players: number | null;
  readonly startedAt: string;
  /** Seconds from the pod's deletion to its disappearance; null if it was still draining at the end. */
  readonly drainSeconds: number | null;
}

export interface RolloutReport {
  readonly replaced: readonly DrainRecord[];
  /** Players on every game server before and after (null when unknown). */
  readonly playersBefore: number | null;
  readonly playersAfter: number | null;
  readonly durationMs: number;
}

/** The pod's game server container: ready, restarts. */
export function podState(p: V1Pod): PodState {
  const c = p.status?.containerStatuses?.find((s) => s.name === 'server') ?? p.status?.containerStatuses?.[0];
  return {
    name: p.metadata!.name!,
    track: p.metadata?.labels?.[LABELS.track] ?? 'stable',
    ready: p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true && !p.metadata?.deletionTimestamp,
    restarts: c?.restartCount ?? 0,
  };
}

/** A snapshot of the release's game server pods and their metrics. */
export async function snapshotGameServers(kube: Kube, metrics: MetricsSource | undefined, ref: ReleaseRef, at?: Date): Promise<{ snapshot: Snapshot; pods: V1Pod[] }> {
  const pods = await kube.list('Pod', { namespace: ref.namespace, labelSelector: gameServerSelector(ref.release) });
  const live = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const names = live.filter((p) => p.status?.podIP).map((p) => p.metadata!.name!);
  const samples = metrics ? await metrics.snapshot(ref.namespace, names, at) : new Map();
  return { snapshot: { at: at ?? new Date(), pods: live.map(podState), samples }, pods: live };
}

/** Watches game server pods until `stop()`, recording every pod that drains. */
export function observeRollout(kube: Kube, metrics: MetricsSource | undefined, ref: ReleaseRef, intervalMs = 1000): { stop(): Promise<RolloutReport> } {
  const t0 = Date.now();
  const lastPlayers = new Map<string, number | null>();
  const draining = new Map<string, { track: string; players: number | null; since: number; gone?: number }>();
  const seen = new Map<string, { track: string; at: number }>();
  let playersBefore: number | null | undefined;
  let playersAfter: number | null = null;
  let stopped = false;
  const total = (m: Map<string, number | null>) => ([...m.values()].some((v) => v === null) ? null : [...m.values()].reduce<number>((a, v) => a + (v ?? 0), 0));
  const poll = async () => {
    const { snapshot, pods } = await snapshotGameServers(kube, metrics, ref);
    const players = playersByPod(snapshot);
    const serving = new Map([...players].filter(([name]) => !pods.find((p) => p.metadata?.name === name)?.metadata?.deletionTimestamp));
    if (playersBefore === undefined) playersBefore = metrics ? total(serving) : null;
    playersAfter = metrics ? total(serving) : null;
    const present = new Set(pods.map((p) => p.metadata!.name!));
    for (const p of pods) {
      const name = p.metadata!.name!;
      if (p.metadata?.deletionTimestamp && !draining.has(name)) {
        draining.set(name, { track: p.metadata.labels?.[LABELS.track] ?? 'stable', players: lastPlayers.get(name) ?? players.get(name) ?? null, since: Date.parse(p.metadata.deletionTimestamp.toString()) || Date.now() });
      }
      if (!p.metadata?.deletionTimestamp) lastPlayers.set(name, players.get(name) ?? null);
    }
    // A pod that vanished between two looks drained within one interval.
    for (const [name, last] of seen) {
      if (!present.has(name) && !draining.has(name)) draining.set(name, { track: last.track, players: lastPlayers.get(name) ?? null, since: last.at, gone: Date.now() });
    }
    for (const [name, d] of draining) if (!present.has(name) && d.gone === undefined) d.gone = Date.now();
    seen.clear();
    for (const p of pods) seen.set(p.metadata!.name!, { track: p.metadata?.labels?.[LABELS.track] ?? 'stable', at: Date.now() });
  };
  const loop = (async () => {
    while (!stopped) {
      await poll().catch(() => {});
      await sleep(intervalMs);
    }
    await poll().catch(() => {});
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return {
        replaced: [...draining].map(([pod, d]) => ({ pod, track: d.track, players: d.players, startedAt: new Date(d.since).toISOString(), drainSeconds: d.gone === undefined ? null : Math.max(0, Math.round((d.gone - d.since) / 100) / 10) })),
        playersBefore: playersBefore ?? null,
        playersAfter,
        durationMs: Date.now() - t0,
      };
    },
  };
}

/**
 * Whether the pods left serving while one drains can hold every player: a warning to say before a
 * rollout, or undefined. (The surge pod adds room only once it is scheduled and ready.)
 */
export function drainCapacityWarning(players: number, readyPods: number, playersPerPod: number): string | undefined {
  if (readyPods <= 1) return players > 0 ? `${players} players are on the only game server: while it drains they wait for the new one to be ready` : undefined;
  const room = (readyPods - 1) * playersPerPod;
  if (players <= room) return undefined;
  return `${players} players on ${readyPods} game servers: while one drains, the other ${readyPods - 1} hold ${room} (capacity.playersPerPod ${playersPerPod}); ${players - room} would wait for the surge pod or be refused`;
}
