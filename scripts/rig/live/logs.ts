/**
 * The part of the kubelet API that `kubectl logs` (the API server's pods/log) reaches:
 * `GET /containerLogs/<namespace>/<pod>/<container>` with `follow`, `previous`, `tailLines` and
 * `limitBytes`, served over HTTPS on each node's InternalIP (port 10250, as the nodes' status says)
 * to clients with a certificate of the rig's CA (the API server's kubelet client certificate).
 * Logs are the files the pod runner writes, without timestamps (`timestamps` and `sinceSeconds`
 * are ignored).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';

/** What the log server needs to know about a pod it may serve. */
export interface LogSource {
  /** `<dir>/<container>/<restart>.log` */
  readonly logsDir: string;
  restartCount(container: string): number | undefined;
  /** False once the pod's containers are gone for good (ends a follow). */
  readonly active: boolean;
}

export const KUBELET_PORT = 10250;

/** The last `n` lines of `text`. Pure. */
export function tailLines(text: string, n: number): string {
  if (n <= 0) return '';
  const lines = text.split('\n');
  const trailing = lines.at(-1) === '' ? 1 : 0;
  return lines.slice(Math.max(0, lines.length - trailing - n)).join('\n');
}

export function startLogServer(
  addresses: readonly string[],
  tls: { ca: Buffer; cert: Buffer; key: Buffer },
  find: (namespace: string, pod: string) => LogSource | undefined,
  log: (line: string) => void,
): Promise<Server[]> {
  const handler = async (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      res.writeHead(404).end('the rig\'s kubelet serves /containerLogs only\n');
      return;
    }
    const [ns, podName, container] = m.slice(1).map(decodeURIComponent) as [string, string, string];
    const source = find(ns, podName);
    const count = source?.restartCount(container);
    if (!source || count === undefined) {
      res.writeHead(404).end(`no container ${container} of pod ${ns}/${podName} runs as a process on this rig (only pods labelled mmo.dev/rig-run=process do)\n`);
      return;
    }
    const previous = url.searchParams.get('previous') === 'true';
    const n = previous ? count - 1 : count;
    const file = join(source.logsDir, container, `${n}.log`);
    if (n < 0 || !existsSync(file)) {
      res.writeHead(previous ? 400 : 200, { 'content-type': 'text/plain' }).end(previous ? `previous terminated container "${container}" in pod "${podName}" not found\n` : '');
      return;
    }
    const tail = url.searchParams.get('tailLines');
    const limit = Number(url.searchParams.get('limitBytes') ?? 0) || Infinity;
    let text = await readFile(file, 'utf8');
    if (tail !== null) text = tailLines(text, Number(tail));
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = Buffer.byteLength(text);
    res.write(Buffer.from(text).subarray(0, Math.min(sent, limit)));
    if (url.searchParams.get('follow') !== 'true' || previous || sent >= limit) {
      res.end();
      return;
    }
    // Follow: new bytes of this file until the container restarts, the pod goes or the client leaves.
    let offset = statSync(file).size;
    const timer = setInterval(() => {
      const size = existsSync(file) ? statSync(file).size : offset;
      if (size > offset) {
        createReadStream(file, { start: offset, end: size - 1 }).on('data', (d) => {
          if (sent < limit) res.write(d);
          sent += d.length;
        });
        offset = size;
      }
      if (!source.active || source.restartCount(container) !== count || sent >= limit) {
        clearInterval(timer);
        res.end();
      }
    }, 250);
    req.on('close', () => clearInterval(timer));
  };
  return Promise.all(
    addresses.map(
      (address) =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (req, res) => {
            handler(req, res).catch((err: unknown) => {
              log(`kubelet API: ${String(err)}`);
              if (!res.headersSent) res.writeHead(500);
              res.end();
            });
          });
          server.once('error', reject);
          server.listen(KUBELET_PORT, address, () => resolve(server));
        }),
    ),
  );
}
