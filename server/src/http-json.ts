/**
 * The JSON side of every HTTP endpoint (game port, admin, health and metrics ports): one way to
 * answer and one way to read a bounded request body, so every endpoint says "too large" the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request refused with an HTTP status (e.g. 413 for a body over the limit); the message is for the client. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Answers `status` with `body` as JSON, never cached; `headers` add to or override the defaults. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The whole request body; rejects with HttpError 413 as soon as it grows past `max` bytes. */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `request body over ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
