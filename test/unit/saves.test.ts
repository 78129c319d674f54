import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/log.ts';
import { CharacterSaves, type SaveKind } from '../../server/src/saves.ts';
import { MemoryStore } from '../../server/src/store/memory.ts';
import type { CharacterState, Store } from '../../server/src/store/store.ts';
import { Handover, newest, parseState } from '../../server/src/gateway/handover.ts';

const quiet = createLogger('error', () => {});

/** A store that records each saveCharacters call and fails while `down` is true. */
function recordingStore() {
  const base = new MemoryStore();
  const calls: CharacterState[][] = [];
  const state = { down: false };
  const store = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'saveCharacters') {
        return async (states: readonly CharacterState[]) => {
          calls.push([...states]);
          if (state.down) throw new Error('database unavailable');
          return target.saveCharacters(states);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Store;
  return { base, store, calls, state };
}

function metrics() {
  const seen = { observed: [] as SaveKind[], failed: [] as Array<[SaveKind, number]> };
  return { seen, sink: { observe: (kind: SaveKind) => seen.observed.push(kind), failed: (kind: SaveKind, n: number) => seen.failed.push([kind, n]) } };
}

async function character(base: MemoryStore) {
  const account = await base.createAccount(null, null);
  return base.loadOrCreateCharacter(account.id, { name: 'c', zone: 0, x: 0, y: 0, hp: 100, level: 1, xp: 0 });
}
const at = (c: { id: string }, x: number, version: number): CharacterState => ({ id: c.id, zone: 0, x, y: 0, hp: 100, level: 1, xp: 0, version });

describe('CharacterSaves', () => {
  it('coalesces saves queued while a batch commits into one next batch, newest version per character', async () => {
    const { base, store, calls } = recordingStore();
    const m = metrics();
    const saves = new CharacterSaves(store, m.sink, quiet);
    const [a, b] = [await character(base), await character(base)];
    const first = saves.save([at(a, 1, 1)], 'logout');
    const rest = [saves.save([at(a, 2, 2)], 'logout'), saves.save([at(b, 5, 1)], 'logout'), saves.save([at(a, 3, 3)], 'batch')];
    await Promise.all([first, ...rest]);
    // All four were queued before the first batch started: one transaction, a's newest state only.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((s) => [s.id, s.x]).sort()).toEqual([[a.id, 3], [b.id, 5]].sort());
    expect(m.seen.observed).toEqual(['batch']);
    expect((await base.loadOrCreateCharacter(a.accountId, { name: '', zone: 0, x: 0, y: 0, hp: 1, level: 1, xp: 0 })).x).toBe(3);
  });

  it('keeps the states of a failed batch and commits them with the next flush', async () => {
    const { base, store, state } = recordingStore();
    const m = metrics();
    const saves = new CharacterSaves(store, m.sink, quiet);
    const a = await character(base);
    state.down = true;
    await expect(saves.save([at(a, 7, 1)], 'logout')).rejects.toThrow(/unavailable/);
    expect(saves.backlog).toBe(1);
    expect(m.seen.failed).toEqual([['logout', 1]]);
    await saves.flush([], 'batch'); // still down: kept again, never thrown
    expect(saves.backlog).toBe(1);
    state.down = false;
    await saves.flush([], 'batch');
    expect(saves.backlog).toBe(0);
    expect((await base.loadOrCreateCharacter(a.accountId, { name: '', zone: 0, x: 0, y: 0, hp: 1, level: 1, xp: 0 })).x).toBe(7);
  });

  it('drops a kept state when a newer one of the same character arrives', async () => {
    const { base, store, state, calls } = recordingStore();
    const saves = new CharacterSaves(store, metrics().sink, quiet);
    const a = await character(base);
    state.down = true;
    await saves.save([at(a, 1, 1)], 'logout').catch(() => {});
    state.down = false;
    await saves.save([at(a, 2, 2)], 'logout');
    expect(saves.backlog).toBe(0);
    await saves.flush([], 'batch');
    expect(calls.at(-1)!.map((s) => s.x)).toEqual([2]);
  });

  it('idle() waits for queued and committing batches', async () => {
    const { base, store } = recordingStore();
    const saves = new CharacterSaves(store, metrics().sink, quiet);
    const a = await character(base);
    void saves.save([at(a, 9, 1)], 'logout');
    await saves.idle();
    expect((await base.loadOrCreateCharacter(a.accountId, { name: '', zone: 0, x: 0, y: 0, hp: 1, level: 1, xp: 0 })).x).toBe(9);
  });
});

describe('Handover', () => {
  const s = (version: number): CharacterState => ({ id: 'c1', zone: 1, x: 2, y: 3, hp: 50, level: 2, xp: 10, version });

  it('delivers a released state to its waiter, and undefined after the timeout', async () => {
    const h = new Handover();
    const waiting = h.awaitRelease('acc', 'sess', 1000);
    expect(h.released('acc', 'other', s(1))).toBe(false);
    expect(h.released('acc', 'sess', s(4))).toBe(true);
    expect(await waiting).toEqual(s(4));
    expect(await h.awaitRelease('acc', 'gone', 20)).toBeUndefined();
  });

  it('keeps a final state until it is committed, for the session that left it', () => {
    const h = new Handover();
    h.rememberFinal('acc', 's1', s(3));
    expect(h.finalOf('acc')).toEqual(s(3));
    expect(h.finalOf('acc', 's2')).toBeUndefined();
    h.committed('acc', 's2');
    expect(h.finalOf('acc', 's1')).toEqual(s(3));
    h.committed('acc', 's1');
    expect(h.finalOf('acc')).toBeUndefined();
  });

  it('hands an announced transfer to one arrival only', () => {
    const h = new Handover();
    h.expect({ characterId: 'c1', fromServerId: 'a', toZone: 1, state: s(2) });
    expect(h.arrive('c1')?.toZone).toBe(1);
    expect(h.arrive('c1')).toBeUndefined();
  });

  it('picks the newer state and refuses malformed ones', () => {
    expect(newest(s(1), s(2))).toEqual(s(2));
    expect(newest(s(3), undefined)).toEqual(s(3));
    expect(parseState({ ...s(1), x: 'far' })).toBeUndefined();
    expect(parseState(null)).toBeUndefined();
    expect(parseState({ ...s(1), extra: true })).toEqual(s(1));
  });
});
