/**
 * Player accounts and tokens. The transports call `verify` on every hello; the game HTTP server
 * mounts the register/login/guest endpoints. Tokens are signed and expire; the signing key comes
 * from MMO_AUTH_SECRET.
 */

export type AuthErrorCode =
  | 'bad_request'
  | 'username_taken'
  | 'bad_credentials'
  | 'rate_limited'
  | 'token_missing'
  | 'token_malformed'
  | 'token_bad_signature'
  | 'token_expired'
  | 'unavailable';

/** A refusal with a stable code the transports and HTTP endpoints pass on to the client. */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  /** Seconds the client should wait before retrying (rate limits). */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: AuthErrorCode, message: string, options?: ErrorOptions & { retryAfterSeconds?: number }) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export interface TokenClaims {
  readonly accountId: string;
  readonly guest: boolean;
  /** Unix seconds. */
  readonly expiresAt: number;
}

/** A signed player token and what it says (a login's, registration's or guest's result). */
export interface IssuedToken {
  readonly token: string;
  readonly claims: TokenClaims;
}

export interface Auth {
  /** Creates an account and returns a token for it; rejects with AuthError. */
  register(username: string, password: string): Promise<IssuedToken>;
  /** Checks credentials (throttled per username and per `clientKey`, e.g. the remote address). */
  login(username: string, password: string, clientKey: string): Promise<IssuedToken>;
  /** Creates a guest account and returns a token for it. */
  guest(): Promise<IssuedToken>;
  /** Checks a token's signature and expiry without I/O; throws AuthError when it is not valid. */
  verify(token: string): TokenClaims;
}
