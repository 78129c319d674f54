/**
 * The Store on SQL, shared by PostgreSQL (pg) and the embedded PGlite: both speak the same dialect
 * and run the same migrations, so one set of statements serves both. Drivers adapt the client
 * library to `SqlDriver`.
 */
import { type Account, type Character, type CharacterState, type InventoryItem, type Store, StoreError } from './store.ts';
import { byItemId, checkGrant } from './validate.ts';

export interface SqlExecutor {
  /** Runs one parameterised statement. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /** Runs a script of several statements without parameters. */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Releases connections. */
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Rows of one batched UPDATE; bigger batches are split, still in one transaction. */
const SAVE_CHUNK = 2_000;

interface AccountRow {
  id: string;
  username: string | null;
  password_hash: string | null;
  created_at: Date | string;
}
interface CharacterRow {
  id: string;
  account_id: string;
  name: string;
  zone: number;
  x: number;
  y: number;
  hp: number;
  level: number;
  xp: string | number | bigint;
  version: string | number | bigint;
}
interface ItemRow {
  item_id: string;
  quantity: string | number | bigint;
}


export class SqlStore implements Store {
  readonly #db: SqlDriver;
  readonly #label: string;
  #closed = false;

  /** `label` names the database in errors (never includes credentials). */
  constructor(db: SqlDriver, label: string) {
    this.#db = db;
    this.#label = label;
  }

  /** Runs `SELECT 1`. */
  async ping(): Promise<void> {
    await this.#run(() => this.#db.query('SELECT 1'));
  }

  /** Inserts an account; a taken username maps to StoreError('username_taken'). */
  async createAccount(username: string | null, passwordHash: string | null): Promise<Account> {
    const { rows } = await this.#run(() =>
      this.#db.query<AccountRow>(
        'INSERT INTO accounts (username, password_hash) VALUES ($1, $2) RETURNING id, username, password_hash, created_at',
        [username, passwordHash],
      ),
    );
    return toAccount(rows[0]!);
  }

  /** The account with this username, if any. */
  async findAccountByUsername(username: string): Promise<Account | undefined> {
    const { rows } = await this.#run(() =>
      this.#db.query<AccountRow>('SELECT id, username, password_hash, created_at FROM accounts WHERE username = $1', [username]),
    );
    return rows[0] && toAccount(rows[0]);
  }

  /** The account with this id, if any (a malformed id finds nothing). */
  async getAccount(id: string): Promise<Account | undefined> {
    if (!UUID.test(id)) {
      this.#check();
      return undefined;
    }
    const { rows } = await this.#run(() =>
      this.#db.query<AccountRow>('SELECT id, username, password_hash, created_at FROM accounts WHERE id = $1', [id]),
    );
    return rows[0] && toAccount(rows[0]);
  }

  /** Inserts the character unless the account has one, then loads it with its inventory. */
  async loadOrCreateCharacter(
    accountId: string,
    spawn: Omit<CharacterState, 'id' | 'version'> & { name: string },
  ): Promise<Character> {
    if (!UUID.test(accountId)) throw new StoreError('not_found', `no account ${accountId}`);
    return this.#run(() =>
      this.#db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO characters (account_id, name, zone, x, y, hp, level, xp)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id) DO NOTHING`,
          [accountId, spawn.name, spawn.zone, spawn.x, spawn.y, spawn.hp, spawn.level, spawn.xp],
        );
        const { rows } = await tx.query<CharacterRow>(
          'SELECT id, account_id, name, zone, x, y, hp, level, xp, version FROM characters WHERE account_id = $1',
          [accountId],
        );
        const row = rows[0]!;
        return { ...toCharacter(row), inventory: await inventoryOf(tx, row.id) };
      }),
    );
  }

  /**
   * One transaction of set-based UPDATEs (one statement per 2,000 characters). A character whose
   * stored version is not below the given one is left alone; unknown ids are skipped.
   */
  async saveCharacters(states: readonly CharacterState[]): Promise<void> {
    // The newest state per character: UPDATE … FROM with duplicate keys would pick one at random.
    const newest = new Map<string, CharacterState>();
    for (const s of states) {
      if (!UUID.test(s.id)) continue;
      const seen = newest.get(s.id);
      if (!seen || s.version > seen.version) newest.set(s.id, s);
    }
    if (newest.size === 0) {
      this.#check();
      return;
    }
    const all = [...newest.values()];
    await this.#run(() =>
      this.#db.transaction(async (tx) => {
        for (let i = 0; i < all.length; i += SAVE_CHUNK) await updateStates(tx, all.slice(i, i + SAVE_CHUNK));
      }),
    );
  }

  /** Applies `state` (if newer) and adds the items in one transaction; resolves after COMMIT. */
  async grantItem(characterId: string, itemId: string, quantity: number, state?: CharacterState): Promise<readonly InventoryItem[]> {
    this.#check();
    checkGrant(characterId, itemId, quantity, state);
    if (!UUID.test(characterId)) throw new StoreError('not_found', `no character ${characterId}`);
    return this.#run(() =>
      this.#db.transaction(async (tx) => {
        if (state) await updateStates(tx, [state]);
        await tx.query(
          `INSERT INTO inventory_items (character_id, item_id, quantity) VALUES ($1, $2, $3)
           ON CONFLICT (character_id, item_id) DO UPDATE SET quantity = inventory_items.quantity + EXCLUDED.quantity`,
          [characterId, itemId, quantity],
        );
        return inventoryOf(tx, characterId);
      }),
    );
  }

  /** Releases connections; later calls reject with StoreError('unavailable'). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.close();
  }

  #check(): void {
    if (this.#closed) throw new StoreError('unavailable', `store ${this.#label} is closed`);
  }

  /** Maps driver errors to StoreError codes; other errors (caller bugs) pass unchanged. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    this.#check();
    try {
      return await fn();
    } catch (error) {
      throw toStoreError(error, this.#label);
    }
  }
}

async function updateStates(tx: SqlExecutor, states: readonly CharacterState[]): Promise<void> {
  const column = <K extends keyof CharacterState>(key: K) => states.map((s) => s[key]);
  await tx.query(
    `UPDATE characters AS c
        SET zone = s.zone, x = s.x, y = s.y, hp = s.hp, level = s.level, xp = s.xp, version = s.version, updated_at = now()
       FROM unnest($1::uuid[], $2::int4[], $3::float8[], $4::float8[], $5::int4[], $6::int4[], $7::int8[], $8::int8[])
            AS s (id, zone, x, y, hp, level, xp, version)
      WHERE c.id = s.id AND c.version < s.version`,
    [column('id'), column('zone'), column('x'), column('y'), column('hp'), column('level'), column('xp'), column('version')],
  );
}

async function inventoryOf(tx: SqlExecutor, characterId: string): Promise<InventoryItem[]> {
  const { rows } = await tx.query<ItemRow>('SELECT item_id, quantity FROM inventory_items WHERE character_id = $1', [characterId]);
  return rows.map((r) => ({ itemId: r.item_id, quantity: Number(r.quantity) })).sort(byItemId);
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
  };
}

function toCharacter(row: CharacterRow): Omit<Character, 'inventory'> {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    zone: row.zone,
    x: row.x,
    y: row.y,
    hp: row.hp,
    level: row.level,
    xp: Number(row.xp),
    version: Number(row.version),
  };
}

/** SQLSTATE classes and codes that mean "the database cannot serve us now". */
function isUnavailable(error: { code?: unknown; message?: unknown }): boolean {
  const code = typeof error.code === 'string' ? error.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code)) return true;
  if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57P')) return true;
  const message = typeof error.message === 'string' ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(message);
}

export function toStoreError(error: unknown, label: string): unknown {
  if (error instanceof StoreError || !(error instanceof Error)) return error;
  const e = error as Error & { code?: unknown; constraint?: unknown };
  if (e.code === '23505' && String(e.constraint ?? e.message).includes('username')) {
    return new StoreError('username_taken', 'that username is taken', { cause: error });
  }
  if (e.code === '23503') return new StoreError('not_found', 'no such account or character', { cause: error });
  if (isUnavailable(e)) return new StoreError('unavailable', `database ${label} is unavailable: ${e.message}`, { cause: error });
  return error;
}
