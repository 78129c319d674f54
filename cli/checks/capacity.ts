/**
 * Capacity arithmetic for preflight, as pure functions over plain data: would the release's pods fit
 * on the cluster's nodes next to what already runs there? A first-fit-decreasing placement that
 * honours what the scheduler would (requests, node selectors, taints, "one per node" anti-affinity)
 * — not a scheduler, but it fails exactly when no node can take a pod.
 */
import type { V1Node, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { formatCpu, formatMemory, parseQuantity, podRequests, type Resources } from '../manifests.ts';

export interface NodeRoom {
  readonly name: string;
  readonly zone?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly V1Taint[];
  /** False when cordoned or not Ready (with `why`). */
  readonly schedulable: boolean;
  readonly why?: string;
  /** Allocatable minus the requests of pods already on the node. */
  readonly free: Resources;
}

/** Pods of one workload to place. */
export interface Demand {
  readonly workload: string;
  readonly pods: number;
  readonly perPod: Resources;
  /** Pods with the same group never share a node (required pod anti-affinity on the hostname). */
  readonly onePerNodeGroup?: string;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly V1Toleration[];
}

export interface Unplaced {
  readonly workload: string;
  readonly reason: string;
}

export interface Placement {
  readonly unplaced: readonly Unplaced[];
  /** Pods placed per node. */
  readonly placed: Readonly<Record<string, readonly string[]>>;
}

/**
 * Room on each node for new pods. Pods that have finished, and pods for which `ignore` returns true
 * (the release's own, which an upgrade replaces), do not count as used.
 */
export function nodeRooms(nodes: readonly V1Node[], pods: readonly V1Pod[], ignore: (p: V1Pod) => boolean = () => false): NodeRoom[] {
  const used = new Map<string, { cpu: number; memory: number }>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (!node || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || ignore(p)) continue;
    const r = podRequests(p.spec!);
    const u = used.get(node) ?? { cpu: 0, memory: 0 };
    used.set(node, { cpu: u.cpu + r.cpu, memory: u.memory + r.memory });
  }
  return nodes.map((n) => {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const cordoned = n.spec?.unschedulable === true;
    const alloc = n.status?.allocatable ?? {};
    const u = used.get(n.metadata!.name!) ?? { cpu: 0, memory: 0 };
    return {
      name: n.metadata!.name!,
      zone: n.metadata?.labels?.['topology.kubernetes.io/zone'],
      labels: n.metadata?.labels ?? {},
      taints: n.spec?.taints ?? [],
      schedulable: ready && !cordoned,
      why: cordoned ? 'cordoned' : ready ? undefined : 'not Ready',
      free: { cpu: parseQuantity(alloc.cpu ?? '0') - u.cpu, memory: parseQuantity(alloc.memory ?? '0') - u.memory },
    };
  });
}

function tolerates(tolerations: readonly V1Toleration[], taint: V1Taint): boolean {
  if (taint.effect === 'PreferNoSchedule') return true;
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
      (t.operator === 'Exists' ? t.key === undefined || t.key === '' || t.key === taint.key : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
  );
}

/** Whether a node may take pods of `d` at all (selector, taints, schedulable). */
export function eligible(node: NodeRoom, d: Pick<Demand, 'nodeSelector' | 'tolerations'>): boolean {
  if (!node.schedulable) return false;
  for (const [k, v] of Object.entries(d.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  return node.taints.every((t) => tolerates(d.tolerations ?? [], t));
}

/** Places every pod of every demand, largest first; what does not fit is reported with the reason. */
export function place(nodes: readonly NodeRoom[], demands: readonly Demand[]): Placement {
  const free = new Map(nodes.map((n) => [n.name, { ...n.free }]));
  const groups = new Map(nodes.map((n) => [n.name, new Set<string>()]));
  const placed: Record<string, string[]> = Object.fromEntries(nodes.map((n) => [n.name, []]));
  const unplaced: Unplaced[] = [];
  const pods = demands.flatMap((d) => Array.from({ length: d.pods }, () => d)).sort((a, b) => b.perPod.cpu - a.perPod.cpu || b.perPod.memory - a.perPod.memory);
  for (const d of pods) {
    const candidates = nodes.filter((n) => eligible(n, d));
    if (!candidates.length) {
      unplaced.push({ workload: d.workload, reason: 'no schedulable node matches its node selector and tolerations' });
      continue;
    }
    const spread = candidates.filter((n) => !d.onePerNodeGroup || !groups.get(n.name)!.has(d.onePerNodeGroup));
    if (!spread.length) {
      unplaced.push({ workload: d.workload, reason: `it needs a node of its own (one game server per node) and all ${candidates.length} eligible nodes are taken` });
      continue;
    }
    const fit = spread.find((n) => free.get(n.name)!.cpu >= d.perPod.cpu - 1e-9 && free.get(n.name)!.memory >= d.perPod.memory);
    if (!fit) {
      const best = Math.max(...spread.map((n) => free.get(n.name)!.cpu));
      const bestMem = Math.max(...spread.map((n) => free.get(n.name)!.memory));
      unplaced.push({
        workload: d.workload,
        reason: `it requests ${formatCpu(d.perPod.cpu)} CPU and ${formatMemory(d.perPod.memory)}; the roomiest eligible node has ${formatCpu(Math.max(0, best))} CPU and ${formatMemory(Math.max(0, bestMem))} left`,
      });
      continue;
    }
    const f = free.get(fit.name)!;
    f.cpu -= d.perPod.cpu;
    f.memory -= d.perPod.memory;
    if (d.onePerNodeGroup) groups.get(fit.name)!.add(d.onePerNodeGroup);
    placed[fit.name]!.push(d.workload);
  }
  return { unplaced, placed };
}

/** Totals for the message: what the release asks for, and what is free. */
export function totals(nodes: readonly NodeRoom[], demands: readonly Demand[]): { need: Resources; free: Resources } {
  const need = demands.reduce((a, d) => ({ cpu: a.cpu + d.pods * d.perPod.cpu, memory: a.memory + d.pods * d.perPod.memory }), { cpu: 0, memory: 0 });
  const free = nodes.filter((n) => n.schedulable).reduce((a, n) => ({ cpu: a.cpu + Math.max(0, n.free.cpu), memory: a.memory + Math.max(0, n.free.memory) }), { cpu: 0, memory: 0 });
  return { need, free };
}
