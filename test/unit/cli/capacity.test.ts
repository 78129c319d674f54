import { describe, expect, it } from 'vitest';
import { nodeRooms, place, totals, type Demand } from '../../../cli/checks/capacity.ts';
import { node, pod } from './fakes.ts';

const game = (pods: number, cpu = 1, group?: string): Demand => ({ workload: 'Deployment/mmo-server', pods, perPod: { cpu, memory: 2 ** 30 }, onePerNodeGroup: group });

describe('capacity placement', () => {
  const three = [node('a'), node('b'), node('c')];

  it.each([
    { name: 'fits three game servers and the data services on three 4-CPU nodes', demands: [game(3), { workload: 'StatefulSet/pg', pods: 1, perPod: { cpu: 1, memory: 2 ** 31 } }], unplaced: 0 },
    { name: 'does not fit a pod larger than any node', demands: [game(1, 5)], unplaced: 1 },
    { name: 'does not fit four one-per-node game servers on three nodes', demands: [game(4, 0.25, 'gs')], unplaced: 1 },
    { name: 'fits four game servers on three nodes when they may share', demands: [game(4, 0.25)], unplaced: 0 },
    { name: 'does not fit twelve 1-CPU pods and one more', demands: [game(13)], unplaced: 1 },
  ])('$name', ({ demands, unplaced }) => {
    expect(place(nodeRooms(three, []), demands).unplaced).toHaveLength(unplaced);
  });

  it('counts what already runs on a node, but not the pods an upgrade replaces', () => {
    const busy = [pod('x', 'a', '3500m', '1Gi'), pod('ours', 'b', '3500m', '1Gi', { namespace: 'game' }), pod('y', 'c', '3500m', '1Gi')];
    const rooms = nodeRooms(three, busy, (p) => p.metadata?.namespace === 'game');
    expect(rooms.map((r) => r.free.cpu)).toEqual([0.5, 4, 0.5]);
    const p = place(rooms, [game(2, 1, 'gs')]);
    expect(p.unplaced).toEqual([{ workload: 'Deployment/mmo-server', reason: 'it requests 1 CPU and 1Gi; the roomiest eligible node has 500m CPU and 15Gi left' }]);
  });

  it('leaves out cordoned and not-Ready nodes, and nodes whose taints the pods do not tolerate', () => {
    const nodes = [node('a', { cordoned: true }), node('b', { ready: false }), node('c', { taints: [{ key: 'dedicated', value: 'games', effect: 'NoSchedule' }] })];
    const rooms = nodeRooms(nodes, []);
    expect(place(rooms, [game(1)]).unplaced[0]?.reason).toBe('no schedulable node matches its node selector and tolerations');
    expect(place(rooms, [{ ...game(1), tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'games', effect: 'NoSchedule' }] }]).unplaced).toEqual([]);
    expect(totals(rooms, [game(2)])).toEqual({ need: { cpu: 2, memory: 2 ** 31 }, free: { cpu: 4, memory: 16 * 2 ** 30 } });
  });

  it('honours node selectors', () => {
    const rooms = nodeRooms([node('a', { labels: { pool: 'games' } }), node('b')], []);
    const p = place(rooms, [{ ...game(2, 1, 'gs'), nodeSelector: { pool: 'games' } }]);
    expect(p.unplaced).toHaveLength(1);
    expect(p.placed.a).toEqual(['Deployment/mmo-server']);
  });
});
