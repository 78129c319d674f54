/**
 * Durable player data. The world sees only this interface; the implementation is chosen at boot:
 * embedded (PGlite, or memory in tests) when DATABASE_URL is unset, PostgreSQL otherwise.
 */

export interface Account {
  readonly id: string;
  /** Null for guests. */
  readonly username: string | null;
  /** scrypt hash in PHC-like string form; null for guests. */
  readonly passwordHash: string | null;
  readonly createdAt: Date;
}

export interface InventoryItem {
  readonly itemId: string;
  readonly quantity: number;
}

/** The persistent part of a player's character. */
export interface Character {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly zone: number;
  readonly x: number;
  readonly y: number;
  readonly hp: number;
  readonly level: number;
  readonly xp: number;
  readonly inventory: readonly InventoryItem[];
  /**
   * Increases with every change the world makes; a save carrying a version not above the stored one
   * is ignored, so late or repeated saves can never move a character back in time.
   */
  readonly version: number;
}

export type CharacterState = Omit<Character, 'accountId' | 'name' | 'inventory'>;

/** Raised by stores with a stable code the caller can map to a client error. */
export class StoreError extends Error {
  readonly code: 'username_taken' | 'not_found' | 'unavailable';
  constructor(code: StoreError['code'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

export interface Store {
  /** Resolves when the store answers a trivial query; rejects (with cause) when it does not. */
  ping(): Promise<void>;
  /** Creates an account; rejects with StoreError('username_taken') when the name exists. */
  createAccount(username: string | null, passwordHash: string | null): Promise<Account>;
  /** The account with this username, if any. */
  findAccountByUsername(username: string): Promise<Account | undefined>;
  /** The account with this id, if any. */
  getAccount(id: string): Promise<Account | undefined>;
  /** The account's character, created from `spawn` when it has none yet. */
  loadOrCreateCharacter(accountId: string, spawn: Omit<CharacterState, 'id' | 'version'> & { name: string }): Promise<Character>;
  /** Commits positions/HP/XP of many characters in one transaction (stale versions are skipped). */
  saveCharacters(states: readonly CharacterState[]): Promise<void>;
  /**
   * A durable action: adds `quantity` of `itemId` to the character's inventory and commits it,
   * together with `state` when given. Resolves with the new inventory only after the commit, so an
   * acknowledgement sent afterwards never lies.
   */
  grantItem(characterId: string, itemId: string, quantity: number, state?: CharacterState): Promise<readonly InventoryItem[]>;
  /** Releases connections; further calls reject. */
  close(): Promise<void>;
}
