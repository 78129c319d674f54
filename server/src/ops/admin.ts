/**
 * Admin endpoints on the metrics port (an operator's port: Prometheus and `kubectl port-forward`
 * reach it, players never do):
 *
 *   POST /admin/broadcast {"text": "…"}  → 202 {"published": true}: every player on every process
 *                                          sees the line as global chat from "server"
 *   GET  /admin/online                   → 200 {"total": n, "byZone": {…}}: players across processes
 *
 * Every request needs `Authorization: Bearer <MMO_ADMIN_TOKEN>`; without a configured token the
 * endpoints answer 403 and say how to enable them. Errors use the game port's shape {error, message}.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ENV } from '../../../contract/env.ts';
import type { Bus } from '../bus/bus.ts';
import type { Presence } from '../presence/presence.ts';
import { HttpError, readBody, sendJson } from '../http-json.ts';
import { LIMITS } from '../../../protocol/codec.ts';

export interface AdminOptions {
  /** MMO_ADMIN_TOKEN; undefined disables the endpoints. */
  readonly token: string | undefined;
  readonly bus: Bus;
  readonly presence: Presence;
}

/** Handles /admin/* and resolves true; resolves false for any other path. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const MAX_BODY = 4096;

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer (.+)$/.exec(header);
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function createAdminHandler(options: AdminOptions): AdminHandler {
  return async (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith('/admin/')) return false;
    if (options.token === undefined) {
      sendJson(res, 403, { error: 'forbidden', message: `admin endpoints are off: set ${ENV.adminToken.name} to enable them` });
      return true;
    }
    if (!authorized(req, options.token)) {
      sendJson(res, 401, { error: 'unauthorized', message: `send Authorization: Bearer <${ENV.adminToken.name}>` }, { 'www-authenticate': 'Bearer' });
      return true;
    }
    try {
      if (path === '/admin/broadcast') {
        if (req.method !== 'POST') {
          sendJson(res, 405, { error: 'bad_request', message: 'POST {"text": "…"}' }, { allow: 'POST' });
          return true;
        }
        let text: unknown;
        try {
          text = (JSON.parse((await readBody(req, MAX_BODY)).toString('utf8')) as { text?: unknown }).text;
        } catch (error) {
          // Too large is 413, as on the game port; anything else unreadable is 400.
          sendJson(res, error instanceof HttpError ? error.status : 400, { error: 'bad_request', message: 'expected a JSON body {"text": "…"} of at most 4 KiB' });
          return true;
        }
        if (typeof text !== 'string' || text.trim() === '' || Buffer.byteLength(text) > LIMITS.maxChatBytes || /[\u0000-\u001f\u007f-\u009f]/.test(text)) {
          sendJson(res, 400, { error: 'bad_request', message: `text: expected 1-${LIMITS.maxChatBytes} bytes without control characters` });
          return true;
        }
        await options.bus.publish({ kind: 'broadcast', text, sentAt: Date.now() });
        sendJson(res, 202, { published: true });
        return true;
      }
      if (path === '/admin/online') {
        if (req.method !== 'GET') {
          sendJson(res, 405, { error: 'bad_request', message: 'GET only' }, { allow: 'GET' });
          return true;
        }
        sendJson(res, 200, await options.presence.online());
        return true;
      }
      sendJson(res, 404, { error: 'not_found', message: `no endpoint ${path}: use /admin/broadcast or /admin/online` });
    } catch (error) {
      sendJson(res, 503, { error: 'unavailable', message: error instanceof Error ? error.message : String(error) });
    }
    return true;
  };
}
