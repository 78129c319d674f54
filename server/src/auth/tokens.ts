/**
 * Signed, expiring player tokens: "v1.<payload>.<signature>", both base64url, the signature an
 * HMAC-SHA256 of "v1.<payload>" under MMO_AUTH_SECRET. Verifying needs no I/O, so every process
 * holding the same secret accepts every other's tokens.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuthError, type TokenClaims } from './auth.ts';

const VERSION = 'v1';

interface Payload {
  sub: string;
  g: 0 | 1;
  exp: number;
}

export function signToken(claims: TokenClaims, secret: Buffer): string {
  const payload: Payload = { sub: claims.accountId, g: claims.guest ? 1 : 0, exp: claims.expiresAt };
  const body = `${VERSION}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The token's claims; throws AuthError token_missing | token_malformed | token_bad_signature | token_expired. */
export function verifyToken(token: unknown, secret: Buffer, nowSeconds: number): TokenClaims {
  if (typeof token !== 'string' || token.length === 0) throw new AuthError('token_missing', 'a token is required: log in or play as a guest first');
  if (token.length > 2048) throw new AuthError('token_malformed', 'the token is too long to be one of ours');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION || !/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) {
    throw new AuthError('token_malformed', `the token is not of the form ${VERSION}.<payload>.<signature>`);
  }
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AuthError('token_bad_signature', 'the token was not signed by this server (forged, or signed with another MMO_AUTH_SECRET)');
  }
  let payload: Partial<Payload>;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<Payload>;
  } catch (error) {
    throw new AuthError('token_malformed', 'the token payload is not JSON', { cause: error });
  }
  if (typeof payload.sub !== 'string' || (payload.g !== 0 && payload.g !== 1) || !Number.isInteger(payload.exp)) {
    throw new AuthError('token_malformed', 'the token payload lacks sub, g or exp');
  }
  if (payload.exp! <= nowSeconds) throw new AuthError('token_expired', 'the token has expired: log in again');
  return { accountId: payload.sub, guest: payload.g === 1, expiresAt: payload.exp! };
}
