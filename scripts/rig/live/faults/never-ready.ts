/**
 * Fault `never-ready` (pod annotation or label `mmo.dev/rig-fault`), preloaded into a process pod's
 * containers with `node --import`: the process runs and serves everything as usual, except that its
 * readiness endpoint answers 503, so the real readiness probe keeps failing.
 */
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { PATHS } from '../../../../contract/ports.ts';

const emit = Server.prototype.emit;
Server.prototype.emit = function (this: Server, event: string, ...args: unknown[]): boolean {
  if (event === 'request') {
    const [req, res] = args as [IncomingMessage, ServerResponse];
    if (req.url?.split('?')[0] === PATHS.ready) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"not ready","reasons":["mmo.dev/rig-fault=never-ready"]}');
      return true;
    }
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof Server.prototype.emit;
