/**
 * The operations endpoints, each on its own port so they can be exposed differently from players:
 * health (`/health/live`, `/health/ready`) and metrics (`/metrics`, `/version`).
 */
import { createServer, type Server } from 'node:http';
import { PATHS } from '../../../contract/ports.ts';
import { sendJson } from '../http-json.ts';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** Why not ready (empty when ready). */
  reasons: string[];
}

/** `/health/live` answers 200 while the event loop runs; `/health/ready` 200 only when ready. */
export function createHealthServer(readiness: () => Readiness): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === PATHS.live) return sendJson(res, 200, { status: 'live' });
    if (path === PATHS.ready) {
      const r = readiness();
      return sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', reasons: r.reasons });
    }
    sendJson(res, 404, { error: 'not_found', paths: [PATHS.live, PATHS.ready] });
  });
}

export interface VersionInfo {
  readonly version: string;
  readonly protocol: number;
  readonly node: string;
  readonly serverId: string;
  /** Set from a build-info file when the image was built with one. */
  readonly build?: Readonly<Record<string, string>>;
}

/**
 * `/metrics` in the Prometheus text format and `/version` as JSON; `routes` (the admin endpoints)
 * are tried first and resolve true when they handled the request.
 */
export function createMetricsServer(
  registry: Registry,
  version: VersionInfo,
  routes?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<boolean>,
): Server {
  return createServer((req, res) => {
    if (routes && (req.url ?? '').startsWith('/admin/')) {
      routes(req, res).catch((err: unknown) => sendJson(res, 500, { error: 'internal', message: String(err) }));
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (path === PATHS.metrics) {
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        })
        .catch((err: unknown) => sendJson(res, 500, { error: 'internal', message: String(err) }));
      return;
    }
    if (path === PATHS.version) return sendJson(res, 200, version);
    sendJson(res, 404, { error: 'not_found', paths: [PATHS.metrics, PATHS.version] });
  });
}
