/**
 * The behaviour every Store must have. Unit tests run it over MemoryStore, the server suite over
 * PGlite and a real PostgreSQL. One store serves a whole file, so tests use fresh random names and
 * never assume an empty database.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CharacterState, type Store, StoreError } from '../../server/src/store/store.ts';

export interface StoreHarness {
  /** Opens the store; a later open after close sees the same data when `durable`. */
  open(): Promise<Store>;
  /** Whether committed data survives close and open. */
  readonly durable: boolean;
  /** Removes what the file left; called after the store is closed. */
  dispose?(): Promise<void>;
}

const spawn = { name: 'Ann', zone: 0, x: 10, y: 20, hp: 100, level: 1, xp: 0 };
const uniqueName = () => `u_${randomUUID().slice(0, 12)}`;

export function describeStore(name: string, harness: StoreHarness): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await harness.open();
    });
    afterAll(async () => {
      await store?.close();
      await harness.dispose?.();
    });

    const newCharacter = async () => {
      const account = await store.createAccount(uniqueName(), 'hash');
      return store.loadOrCreateCharacter(account.id, spawn);
    };
    const stateOf = (c: { id: string }, version: number, patch: Partial<CharacterState> = {}): CharacterState => ({
      id: c.id,
      zone: 1,
      x: 1.25,
      y: 2.5,
      hp: 80,
      level: 2,
      xp: 150,
      version,
      ...patch,
    });

    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('creates an account and finds it by username and by id', async () => {
      const username = uniqueName();
      const account = await store.createAccount(username, 'scrypt$hash');
      expect(account).toMatchObject({ username, passwordHash: 'scrypt$hash' });
      expect(account.createdAt).toBeInstanceOf(Date);
      expect(await store.findAccountByUsername(username)).toEqual(account);
      expect(await store.getAccount(account.id)).toEqual(account);
    });

    it('refuses a taken username with username_taken, even when two register at once', async () => {
      const username = uniqueName();
      const results = await Promise.allSettled([store.createAccount(username, 'a'), store.createAccount(username, 'b')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(StoreError);
      expect((refused?.reason as StoreError).code).toBe('username_taken');
      await expect(store.createAccount(username, 'c')).rejects.toMatchObject({ code: 'username_taken' });
    });

    it('creates any number of guest accounts', async () => {
      const a = await store.createAccount(null, null);
      const b = await store.createAccount(null, null);
      expect(a.id).not.toBe(b.id);
      expect(await store.getAccount(b.id)).toMatchObject({ username: null, passwordHash: null });
    });

    it('finds nothing for unknown names and ids, malformed ids included', async () => {
      expect(await store.findAccountByUsername(uniqueName())).toBeUndefined();
      expect(await store.getAccount(randomUUID())).toBeUndefined();
      expect(await store.getAccount('not-an-id')).toBeUndefined();
    });

    it('creates a character once per account and loads the same one afterwards', async () => {
      const account = await store.createAccount(uniqueName(), 'h');
      const created = await store.loadOrCreateCharacter(account.id, spawn);
      expect(created).toMatchObject({ accountId: account.id, ...spawn, inventory: [], version: 0 });
      const again = await store.loadOrCreateCharacter(account.id, { ...spawn, name: 'Other', x: 99 });
      expect(again).toEqual(created);
    });

    it('refuses a character for an unknown account with not_found', async () => {
      await expect(store.loadOrCreateCharacter(randomUUID(), spawn)).rejects.toMatchObject({ code: 'not_found' });
    });

    it('saves many characters at once and skips stale or unknown ones', async () => {
      const [a, b, c] = [await newCharacter(), await newCharacter(), await newCharacter()];
      await store.saveCharacters([stateOf(a, 5), stateOf(b, 3, { x: 7 }), stateOf({ id: randomUUID() }, 1)]);
      // b's second save is older than its first: it must not move b back in time.
      await store.saveCharacters([stateOf(b, 2, { x: 999 }), stateOf(c, 1, { hp: 1, xp: 2 ** 40 })]);
      await store.saveCharacters([stateOf(a, 5, { x: 555 })]); // same version: a repeat, ignored
      await store.saveCharacters([]);
      const load = async (ch: { accountId: string }) => store.loadOrCreateCharacter(ch.accountId, spawn);
      expect(await load(a)).toMatchObject({ zone: 1, x: 1.25, y: 2.5, hp: 80, level: 2, xp: 150, version: 5 });
      expect(await load(b)).toMatchObject({ x: 7, version: 3 });
      expect(await load(c)).toMatchObject({ hp: 1, xp: 2 ** 40, version: 1 });
    });

    it('grants items durably, adding to what the character holds', async () => {
      const ch = await newCharacter();
      expect(await store.grantItem(ch.id, 'potion', 2)).toEqual([{ itemId: 'potion', quantity: 2 }]);
      expect(await store.grantItem(ch.id, 'arrow', 20)).toEqual([
        { itemId: 'arrow', quantity: 20 },
        { itemId: 'potion', quantity: 2 },
      ]);
      expect(await store.grantItem(ch.id, 'potion', 3)).toEqual([
        { itemId: 'arrow', quantity: 20 },
        { itemId: 'potion', quantity: 5 },
      ]);
      const loaded = await store.loadOrCreateCharacter(ch.accountId, spawn);
      expect(loaded.inventory).toEqual([
        { itemId: 'arrow', quantity: 20 },
        { itemId: 'potion', quantity: 5 },
      ]);
    });

    it('commits the state given with a grant in the same step', async () => {
      const ch = await newCharacter();
      await store.grantItem(ch.id, 'gold', 10, stateOf(ch, 4, { x: 42 }));
      expect(await store.loadOrCreateCharacter(ch.accountId, spawn)).toMatchObject({ x: 42, version: 4 });
      await store.grantItem(ch.id, 'gold', 1, stateOf(ch, 3, { x: 1 })); // stale state: item still granted
      const loaded = await store.loadOrCreateCharacter(ch.accountId, spawn);
      expect(loaded).toMatchObject({ x: 42, version: 4, inventory: [{ itemId: 'gold', quantity: 11 }] });
    });

    it('grants many items to one character concurrently without losing any', async () => {
      const ch = await newCharacter();
      await Promise.all([...Array(20)].map(() => store.grantItem(ch.id, 'coin', 1)));
      expect((await store.loadOrCreateCharacter(ch.accountId, spawn)).inventory).toEqual([{ itemId: 'coin', quantity: 20 }]);
    });

    it('refuses grants to unknown characters and bad quantities', async () => {
      const ch = await newCharacter();
      await expect(store.grantItem(randomUUID(), 'potion', 1)).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.grantItem(ch.id, 'potion', 0)).rejects.toThrow(/quantity/);
      await expect(store.grantItem(ch.id, 'potion', 1.5)).rejects.toThrow(/quantity/);
      await expect(store.grantItem(ch.id, '', 1)).rejects.toThrow(/itemId/);
      expect((await store.loadOrCreateCharacter(ch.accountId, spawn)).inventory).toEqual([]);
    });

    // Registered only for durable stores (not skipped elsewhere, so no skip is counted as a pass).
    if (harness.durable) it('keeps committed accounts, characters and items across a reopen', async () => {
      const ch = await newCharacter();
      await store.grantItem(ch.id, 'ring', 1, stateOf(ch, 9, { x: 3 }));
      await store.close();
      store = await harness.open();
      const account = await store.getAccount(ch.accountId);
      expect(account?.id).toBe(ch.accountId);
      expect(await store.loadOrCreateCharacter(ch.accountId, spawn)).toMatchObject({
        id: ch.id,
        x: 3,
        version: 9,
        inventory: [{ itemId: 'ring', quantity: 1 }],
      });
    });

    it('rejects calls after close', async () => {
      await store.close();
      await expect(store.ping()).rejects.toThrow();
      store = await harness.open();
    });
  });
}
