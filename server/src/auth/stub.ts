/**
 * Guest-only tokens for local mode until the full Auth (accounts, passwords, throttling) is wired
 * in: HMAC-SHA256 signed `accountId.expiry.signature` tokens over a per-process key. Registration
 * and login answer `unavailable`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { AuthError, type Auth, type Session, type TokenClaims } from './auth.ts';

const TOKEN_SECONDS = 24 * 3600;

export class GuestAuth implements Auth {
  readonly #key: Buffer;
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, options: { secret?: string; now?: () => number } = {}) {
    this.#store = store;
    this.#key = options.secret ? Buffer.from(options.secret) : randomBytes(32);
    this.#now = options.now ?? Date.now;
  }

  /** Not offered in local mode yet. */
  async register(): Promise<Session> {
    throw new AuthError('unavailable', 'registration is not available on this server');
  }

  /** Not offered in local mode yet. */
  async login(): Promise<Session> {
    throw new AuthError('unavailable', 'login is not available on this server');
  }

  /** Creates a guest account and a token for it. */
  async guest(): Promise<Session> {
    const account = await this.#store.createAccount(null, null);
    const claims: TokenClaims = { accountId: account.id, guest: true, expiresAt: Math.floor(this.#now() / 1000) + TOKEN_SECONDS };
    const body = `${claims.accountId}.${claims.expiresAt}`;
    return { token: `${body}.${this.#sign(body)}`, claims };
  }

  /** Checks signature and expiry. */
  verify(token: string): TokenClaims {
    if (!token) throw new AuthError('token_missing', 'no token');
    const parts = token.split('.');
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]!)) throw new AuthError('token_malformed', 'token is not accountId.expiry.signature');
    const body = `${parts[0]}.${parts[1]}`;
    const given = Buffer.from(parts[2]!, 'base64url');
    const want = Buffer.from(this.#sign(body), 'base64url');
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new AuthError('token_bad_signature', 'token signature does not match');
    const expiresAt = Number(parts[1]);
    if (expiresAt * 1000 <= this.#now()) throw new AuthError('token_expired', 'token expired');
    return { accountId: parts[0]!, guest: true, expiresAt };
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}
