import { describe, expect, it } from 'vitest';
import { beginSnapshot, decodeServerFrame, FrameWriter, PROTOCOL_VERSION, writeSnapshotEntity, ENTITY_FLAGS, type SnapshotMessage } from '../../protocol/codec.ts';
import { GameModel, WALK_SPEED } from '../../server/web/src/game.ts';

function welcomed(patchRate = 20): GameModel {
  const m = new GameModel();
  m.welcome({
    type: 'welcome', version: PROTOCOL_VERSION, playerId: 7, name: 'me', serverId: 's', zone: 1, zoneCount: 4,
    zoneSize: 1000, x: 500, y: 500, hp: 100, maxHp: 100, tickRate: 20, patchRate, interestRadius: 150, sendProfile: patchRate < 20 ? 'mmo' : 'action',
  });
  return m;
}

function snapshot(entities: [id: number, x: number, y: number, hp: number, flags: number][]): SnapshotMessage {
  const w = new FrameWriter();
  const zoneSize = 1000;
  beginSnapshot(w, 1, 0, zoneSize, entities.length);
  for (const [id, x, y, hp, flags] of entities) writeSnapshotEntity(w, id, x, y, zoneSize, hp, flags);
  const msgs = decodeServerFrame(w.copy());
  if (!Array.isArray(msgs)) throw new Error(msgs.detail);
  return msgs[0] as SnapshotMessage;
}

describe('demo page model', () => {
  it('walks at WALK_SPEED along the keys and stops at the zone edge', () => {
    const m = welcomed();
    expect(m.step(0.1, 1, 0)).toBe(true);
    expect(m.x).toBeCloseTo(500 + WALK_SPEED * 0.1, 6);
    expect(m.y).toBe(500);
    m.x = 999;
    m.step(0.1, 1, 0);
    expect(m.x).toBe(1000);
    expect(m.step(0.1, 1, 0)).toBe(false); // pinned against the edge: no move to send
    expect(m.step(0.1, 0, 0)).toBe(false); // no key, no target
  });

  it('walks to a clicked point and stops there', () => {
    const m = welcomed();
    m.target = { x: 510, y: 500 };
    expect(m.step(0.1, 0, 0)).toBe(true);
    expect(m.x).toBe(510);
    expect(m.target).toBeUndefined();
  });

  it('keeps its own position unless the server acknowledged a different one', () => {
    const m = welcomed();
    m.step(0.1, 0, 1);
    m.ack(500, 515, 500, 515);
    expect(m.y).toBe(515);
    m.ack(500, 505, 500, 530); // the server clamped the move: take its position
    expect(m.y).toBe(505);
    expect(m.acks).toBe(2);
  });

  it('shows exactly the entities of the latest snapshot, with names learnt from appear', () => {
    const m = welcomed();
    m.known.set(9, { name: 'other', maxHp: 120 });
    m.snapshot(snapshot([[7, 500, 500, 100, ENTITY_FLAGS.self], [9, 520, 500, 60, 0], [11, 530, 500, 0, ENTITY_FLAGS.dead]]), 0);
    expect([...m.entities.keys()].sort()).toEqual([11, 7, 9]);
    expect(m.entities.get(9)).toMatchObject({ name: 'other', maxHp: 120, hp: 60, dead: false, self: false });
    expect(m.entities.get(11)!.dead).toBe(true);
    expect(m.nearest(200)!.id).toBe(9); // the dead one and ourselves are never targets
    m.snapshot(snapshot([[7, 500, 500, 100, ENTITY_FLAGS.self]]), 100);
    expect([...m.entities.keys()]).toEqual([7]);
  });

  it('glides other players between snapshots at 10 a second, and jumps over a respawn', () => {
    const m = welcomed(10);
    expect(m.snapshotIntervalMs).toBe(100);
    m.snapshot(snapshot([[7, 500, 500, 100, ENTITY_FLAGS.self], [9, 520, 500, 100, 0]]), 1000);
    m.snapshot(snapshot([[7, 500, 500, 100, ENTITY_FLAGS.self], [9, 530, 500, 100, 0]]), 1100);
    const xs = [1100, 1125, 1150, 1175, 1200, 1250].map((t) => {
      m.interpolate(t);
      return Math.round(m.entities.get(9)!.x * 10) / 10; // positions travel quantized
    });
    expect(xs).toEqual([520, 522.5, 525, 527.5, 530, 530]); // every frame a step, resting at the last
    // A snapshot arriving mid-glide continues from where it is shown: no jump back.
    m.snapshot(snapshot([[7, 500, 500, 100, ENTITY_FLAGS.self], [9, 540, 500, 100, 0]]), 1300);
    m.interpolate(1300);
    expect(m.entities.get(9)!.x).toBeCloseTo(530, 1);
    m.snapshot(snapshot([[7, 500, 500, 100, ENTITY_FLAGS.self], [9, 900, 900, 100, 0]]), 1350); // respawned far away
    m.interpolate(1350);
    expect([m.entities.get(9)!.x, m.entities.get(9)!.y]).toEqual([expect.closeTo(900, 1), expect.closeTo(900, 1)]);
    expect(m.entities.get(7)!.x).toBe(m.x); // ourselves: the predicted position, never interpolated
  });

  it('cannot walk while dead and respawns where the server says', () => {
    const m = welcomed();
    m.combat({ type: 'combat', kind: 'death', attacker: 9, target: 7, skill: 'strike', damage: 12, hp: 0, x: 500, y: 500 }, 0);
    expect(m.step(0.1, 1, 0)).toBe(false);
    m.combat({ type: 'combat', kind: 'respawn', attacker: 7, target: 7, skill: 'strike', damage: 0, hp: 100, x: 10, y: 20 }, 0);
    expect(m.dead).toBe(false);
    expect([m.x, m.y, m.hp]).toEqual([10, 20, 100]);
  });
});
