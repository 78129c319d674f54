/**
 * The game port's plain HTTP: extra routes first (the account endpoints under /auth/), then the
 * demo page (the bundle in server/web/dist) at `/`. WebSocket upgrades and WebRTC signaling share
 * this server.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendJson } from '../http-json.ts';
import type { Logger } from '../log.ts';

/** Where the demo bundle is built. */
export const WEB_DIST = resolve(fileURLToPath(new URL('../../web/dist/', import.meta.url)));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>mmo</title>
<p>The demo page is not built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it first).</p>`;

export interface HttpOptions {
  readonly log: Logger;
  readonly webRoot?: string;
  /** Extra routes tried first (e.g. account endpoints); return true when handled. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

/** The request listener for the game port (geckos wraps it for its signaling paths). */
export function createHttpHandler(options: HttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const root = options.webRoot ?? WEB_DIST;
  return (req, res) => {
    void (async () => {
      if (options.routes && (await options.routes(req, res))) return;
      const path = (req.url ?? '/').split('?')[0]!;
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'bad_request', message: 'not found' });
      let rel: string;
      try {
        rel = normalize(decodeURIComponent(path === '/' ? '/index.html' : path));
      } catch {
        return sendJson(res, 400, { error: 'bad_request', message: 'bad path' });
      }
      const file = join(root, rel);
      if (!file.startsWith(root + sep)) return sendJson(res, 404, { error: 'not_found' });
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        if (rel === sep + 'index.html') {
          res.writeHead(200, { 'content-type': TYPES['.html']! });
          return res.end(NOT_BUILT);
        }
        sendJson(res, 404, { error: 'not_found' });
      }
    })().catch((err: unknown) => {
      options.log.error('http handler failed', { error: err });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
      else res.destroy();
    });
  };
}
