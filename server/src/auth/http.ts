/**
 * HTTP endpoints for accounts, mounted by the game HTTP server:
 *   POST /auth/register {username, password} → 201 {token, accountId, guest, expiresAt}
 *   POST /auth/login    {username, password} → 200 {token, accountId, guest, expiresAt}
 *   POST /auth/guest                         → 201 {token, accountId, guest, expiresAt}
 * Errors: {error: <code>, message} (the game port's error shape) with 400 bad_request,
 * 401 bad_credentials, 409 username_taken, 413 (body too large), 429 rate_limited (+ Retry-After),
 * 503 unavailable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody, sendJson } from '../http-json.ts';
import { type Auth, AuthError, type AuthErrorCode, type IssuedToken } from './auth.ts';
import { throttleCall } from './accounts.ts';
import { localWindows, type RateWindows } from '../limits/rate-window.ts';

export interface AuthHttpOptions {
  /** Who is asking, for throttling. Default: the socket's remote address. */
  readonly clientKey?: (req: IncomingMessage) => string;
  /** Largest accepted body. Default 4 KiB. */
  readonly maxBodyBytes?: number;
  /** Account creations (register + guest) per client key per minute; 0 = unlimited. Default 60. */
  readonly createsPerMinute?: number;
  /**
   * Leave loopback clients out of the creation limit (default true): load tests create thousands of
   * guests from 127.0.0.1, and whoever is on the machine already has more than accounts.
   */
  readonly exemptLoopback?: boolean;
  readonly now?: () => number;
  /** Where the creation window lives. Default: this process's memory on `now`; a cluster passes `redisWindows`. */
  readonly windows?: RateWindows;
}

/** Handles a request when its path is under /auth/ and resolves true; otherwise resolves false untouched. */
export type AuthHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const STATUS: Record<AuthErrorCode, number> = {
  bad_request: 400,
  username_taken: 409,
  bad_credentials: 401,
  rate_limited: 429,
  token_missing: 401,
  token_malformed: 401,
  token_bad_signature: 401,
  token_expired: 401,
  unavailable: 503,
};

export function createAuthHttpHandler(auth: Auth, options: AuthHttpOptions = {}): AuthHttpHandler {
  const clientKey = options.clientKey ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown');
  const maxBody = options.maxBodyBytes ?? 4096;
  const createLimit = options.createsPerMinute ?? 60;
  const creates = (options.windows ?? localWindows(options.now))({ name: 'create-client', limit: Math.max(1, createLimit), windowMs: 60_000 });
  const exemptLoopback = options.exemptLoopback ?? true;
  const limited = (req: IncomingMessage) => createLimit > 0 && !(exemptLoopback && isLoopback(req.socket.remoteAddress));

  return async (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith('/auth/')) return false;
    const route = path.slice('/auth/'.length);
    if (!['register', 'login', 'guest'].includes(route)) {
      sendJson(res, 404, { error: 'not_found', message: `no endpoint ${path}: use /auth/register, /auth/login or /auth/guest` });
      return true;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendJson(res, 405, { error: 'bad_request', message: `${path} accepts POST only` });
      return true;
    }
    try {
      const key = clientKey(req);
      let issued: IssuedToken;
      if (route === 'login') {
        const { username, password } = credentials(await readJson(req, maxBody));
        issued = await auth.login(username, password, key);
      } else {
        const wait = limited(req) ? await throttleCall(() => creates.blockedFor(key)) : 0;
        if (wait > 0) {
          const retryAfterSeconds = Math.ceil(wait / 1000);
          throw new AuthError('rate_limited', `too many new accounts from this address: try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
        }
        if (route === 'register') {
          const { username, password } = credentials(await readJson(req, maxBody));
          issued = await auth.register(username, password);
        } else {
          await readBody(req, maxBody);
          issued = await auth.guest();
        }
        // The account exists now: a window that cannot count it (Redis went down just now) must not
        // turn the creation into an error the client would retry.
        if (limited(req)) await creates.hit(key).catch(() => {});
      }
      sendJson(res, route === 'login' ? 200 : 201, {
        token: issued.token,
        accountId: issued.claims.accountId,
        guest: issued.claims.guest,
        expiresAt: issued.claims.expiresAt,
      });
    } catch (error) {
      if (error instanceof HttpError) {
        sendJson(res, error.status, { error: 'bad_request', message: error.message });
      } else if (error instanceof AuthError) {
        if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
        sendJson(res, STATUS[error.code], { error: error.code, message: error.message });
      } else {
        sendJson(res, 500, { error: 'internal', message: 'internal error' });
      }
    }
    return true;
  };
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

async function readJson(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  const raw = await readBody(req, max);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body must be JSON: {"username": "...", "password": "..."}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'request body must be a JSON object: {"username": "...", "password": "..."}');
  }
  return body as Record<string, unknown>;
}

function credentials(body: Record<string, unknown>): { username: string; password: string } {
  const { username, password } = body;
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new HttpError(400, 'request body must carry "username" and "password" as strings');
  }
  return { username, password };
}
