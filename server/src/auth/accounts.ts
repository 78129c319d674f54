/**
 * Auth over a Store: register, login (throttled), guest, and token verification. Tokens are signed
 * with MMO_AUTH_SECRET; every process sharing that secret accepts every other's tokens.
 */
import { randomBytes } from 'node:crypto';
import { ENV } from '../../../contract/env.ts';
import { ruleProblem } from '../config.ts';
import { type Store, StoreError } from '../store/store.ts';
import { type Auth, AuthError, type IssuedToken, type TokenClaims } from './auth.ts';
import { DEFAULT_COST, hashPassword, verifyPassword } from './passwords.ts';
import { localWindows, type RateWindow, type RateWindows } from '../limits/rate-window.ts';
import { signToken, verifyToken } from './tokens.ts';

/** Usernames: 3–24 of a–z, 0–9, "_" and "-", compared without case. */
export const USERNAME = /^[A-Za-z0-9_-]{3,24}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export interface AccountAuthOptions {
  /** MMO_AUTH_SECRET. Unset: a random key for this process (local mode only: see `requireSecret`). */
  readonly secret?: string;
  /** Refuse to start without a secret (clustered mode: processes must accept each other's tokens). */
  readonly requireSecret?: boolean;
  /** Token lifetime in seconds. Default 86,400 (a day). */
  readonly tokenTtlSeconds?: number;
  /** Failed logins per username within `usernameWindowSeconds` before it is locked. Default 5 in 900 s. */
  readonly usernameFailures?: number;
  readonly usernameWindowSeconds?: number;
  /** Login attempts per client key (remote address) within `clientWindowSeconds`. Default 20 in 60 s. */
  readonly clientAttempts?: number;
  readonly clientWindowSeconds?: number;
  /** log2 of scrypt's N for new hashes. Default 14; tests lower it. */
  readonly passwordCost?: number;
  /** Milliseconds clock; tests pass a fake one. */
  readonly now?: () => number;
  /**
   * Where the login windows live. Default: this process's memory on `now`. A cluster passes
   * `redisWindows` so every process counts the same attempts.
   */
  readonly windows?: RateWindows;
}

/**
 * The signing key: `secret`'s bytes, or a random key for this process when it is unset and not
 * `required` (clustered: REDIS_URL or AMQP_URL set). Throws a message naming MMO_AUTH_SECRET when
 * it breaks the rules contract/env.ts declares for it.
 */
export function checkSecret(secret: string | undefined, required: boolean): Buffer {
  const problem = ruleProblem('authSecret', secret, () => required);
  if (problem) throw new AuthError('unavailable', `${ENV.authSecret.name}: ${problem}; e.g. \`openssl rand -base64 48\``);
  return secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
}

export class AccountAuth implements Auth {
  readonly #store: Store;
  readonly #secret: Buffer;
  readonly #ttl: number;
  readonly #cost: number;
  readonly #now: () => number;
  readonly #byUsername: RateWindow;
  readonly #byClient: RateWindow;
  /** Verified against when the username does not exist, so both cases take as long. */
  #dummyHash: Promise<string> | undefined;

  constructor(store: Store, options: AccountAuthOptions = {}) {
    this.#store = store;
    this.#secret = checkSecret(options.secret, options.requireSecret ?? false);
    this.#ttl = options.tokenTtlSeconds ?? 86_400;
    this.#cost = options.passwordCost ?? DEFAULT_COST;
    this.#now = options.now ?? Date.now;
    const windows = options.windows ?? localWindows(this.#now);
    this.#byUsername = windows({ name: 'login-user', limit: options.usernameFailures ?? 5, windowMs: (options.usernameWindowSeconds ?? 900) * 1000 });
    this.#byClient = windows({ name: 'login-client', limit: options.clientAttempts ?? 20, windowMs: (options.clientWindowSeconds ?? 60) * 1000 });
  }

  /** Validates, hashes and stores a new account; returns a token for it. */
  async register(username: unknown, password: unknown): Promise<IssuedToken> {
    const name = checkUsername(username);
    const pass = checkPassword(password);
    const hash = await hashPassword(pass, this.#cost);
    const account = await this.#storeCall(() => this.#store.createAccount(name, hash));
    return this.#issue(account.id, false);
  }

  /**
   * Checks credentials; throttled per client key (every attempt counts) and per username (failures).
   * A username's slot is taken before the password is checked and given back by a success, so
   * concurrent guesses, on any number of processes, never get past the limit. When the windows
   * cannot answer (Redis down) the login is refused as `unavailable`: never unthrottled.
   */
  async login(username: unknown, password: unknown, clientKey: string): Promise<IssuedToken> {
    if (typeof username !== 'string' || typeof password !== 'string' || username.length > 64 || password.length > PASSWORD_MAX) {
      throw new AuthError('bad_request', 'username and password must be strings');
    }
    const name = username.toLowerCase();
    for (const [window, key] of [[this.#byClient, clientKey], [this.#byUsername, name]] as const) {
      const wait = await throttleCall(() => window.take(key));
      if (wait > 0) {
        const retryAfterSeconds = Math.ceil(wait / 1000);
        throw new AuthError('rate_limited', `too many login attempts: try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
      }
    }
    const account = await this.#storeCall(() => this.#store.findAccountByUsername(name));
    const ok = account?.passwordHash
      ? await verifyPassword(password, account.passwordHash)
      : (await verifyPassword(password, await this.#dummy()), false);
    if (!ok || !account) throw new AuthError('bad_credentials', 'unknown username or wrong password');
    // Not being able to give the slot back (Redis went down just now) costs the player one of its
    // attempts until the window passes; refusing a correct password would cost more.
    await this.#byUsername.reset(name).catch(() => {});
    return this.#issue(account.id, false);
  }

  /** Creates a guest account (no username, no password). */
  async guest(): Promise<IssuedToken> {
    const account = await this.#storeCall(() => this.#store.createAccount(null, null));
    return this.#issue(account.id, true);
  }

  /** Checks signature and expiry; throws AuthError with a token_* code. */
  verify(token: string): TokenClaims {
    return verifyToken(token, this.#secret, Math.floor(this.#now() / 1000));
  }

  #issue(accountId: string, guest: boolean): IssuedToken {
    const claims: TokenClaims = { accountId, guest, expiresAt: Math.floor(this.#now() / 1000) + this.#ttl };
    return { token: signToken(claims, this.#secret), claims };
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.#cost);
    return this.#dummyHash;
  }

  async #storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof StoreError && error.code === 'username_taken') throw new AuthError('username_taken', 'that username is taken', { cause: error });
      throw new AuthError('unavailable', 'accounts are unavailable right now: try again shortly', { cause: error });
    }
  }
}

/** Runs a rate window call; any failure (Redis unreachable, a timeout) refuses the request as `unavailable`. */
export async function throttleCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new AuthError('unavailable', 'accounts are unavailable right now (rate limits cannot be checked): try again shortly', { cause: error });
  }
}

function checkUsername(username: unknown): string {
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    throw new AuthError('bad_request', 'username must be 3–24 characters: letters, digits, "_" or "-"');
  }
  return username.toLowerCase();
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new AuthError('bad_request', `password must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`);
  }
  return password;
}
