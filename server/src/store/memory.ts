/**
 * A Store in plain memory, for unit tests of code that needs a Store. It keeps the same rules as
 * the SQL stores (unique usernames, one character per account, stale saves skipped) but nothing
 * survives the process: `npm start` uses PGlite instead.
 */
import { randomUUID } from 'node:crypto';
import { type Account, type Character, type CharacterState, type InventoryItem, type Store, StoreError } from './store.ts';
import { byItemId, checkGrant } from './validate.ts';

export class MemoryStore implements Store {
  readonly #accounts = new Map<string, Account>();
  readonly #byUsername = new Map<string, Account>();
  readonly #characters = new Map<string, Character>();
  readonly #characterOfAccount = new Map<string, string>();
  #closed = false;

  /** Always answers while open. */
  async ping(): Promise<void> {
    this.#check();
  }

  /** Creates an account; usernames are unique. */
  async createAccount(username: string | null, passwordHash: string | null): Promise<Account> {
    this.#check();
    if (username !== null && this.#byUsername.has(username)) {
      throw new StoreError('username_taken', `username ${JSON.stringify(username)} is taken`);
    }
    const account: Account = { id: randomUUID(), username, passwordHash, createdAt: new Date() };
    this.#accounts.set(account.id, account);
    if (username !== null) this.#byUsername.set(username, account);
    return account;
  }

  /** The account with this username, if any. */
  async findAccountByUsername(username: string): Promise<Account | undefined> {
    this.#check();
    return this.#byUsername.get(username);
  }

  /** The account with this id, if any. */
  async getAccount(id: string): Promise<Account | undefined> {
    this.#check();
    return this.#accounts.get(id);
  }

  /** The account's character, created from `spawn` when it has none. */
  async loadOrCreateCharacter(
    accountId: string,
    spawn: Omit<CharacterState, 'id' | 'version'> & { name: string },
  ): Promise<Character> {
    this.#check();
    if (!this.#accounts.has(accountId)) throw new StoreError('not_found', `no account ${accountId}`);
    const existing = this.#characterOfAccount.get(accountId);
    if (existing) return this.#characters.get(existing)!;
    const character: Character = {
      id: randomUUID(),
      accountId,
      name: spawn.name,
      zone: spawn.zone,
      x: spawn.x,
      y: spawn.y,
      hp: spawn.hp,
      level: spawn.level,
      xp: spawn.xp,
      inventory: [],
      version: 0,
    };
    this.#characters.set(character.id, character);
    this.#characterOfAccount.set(accountId, character.id);
    return character;
  }

  /** Applies every state whose version is newer than the stored one; unknown ids are skipped. */
  async saveCharacters(states: readonly CharacterState[]): Promise<void> {
    this.#check();
    for (const state of states) this.#apply(state);
  }

  /** Adds to the inventory (and applies `state`) in one step. */
  async grantItem(characterId: string, itemId: string, quantity: number, state?: CharacterState): Promise<readonly InventoryItem[]> {
    this.#check();
    checkGrant(characterId, itemId, quantity, state);
    const character = this.#characters.get(characterId);
    if (!character) throw new StoreError('not_found', `no character ${characterId}`);
    if (state) this.#apply(state);
    const current = this.#characters.get(characterId)!;
    const inventory = current.inventory.map((item) => ({ ...item }));
    const slot = inventory.find((item) => item.itemId === itemId);
    if (slot) slot.quantity += quantity;
    else inventory.push({ itemId, quantity });
    inventory.sort(byItemId);
    this.#characters.set(characterId, { ...current, inventory });
    return inventory;
  }

  /** Further calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #apply(state: CharacterState): void {
    const current = this.#characters.get(state.id);
    if (!current || state.version <= current.version) return;
    const { id, zone, x, y, hp, level, xp, version } = state;
    this.#characters.set(id, { ...current, zone, x, y, hp, level, xp, version });
  }

  #check(): void {
    if (this.#closed) throw new StoreError('unavailable', 'store is closed');
  }
}
