/**
 * TCP forwarders on the bridge's host address, so pods reach what listens on this machine's
 * loopback — the API server and this checkout's PostgreSQL, Redis and RabbitMQ — as they would reach
 * a cluster's API server and managed services. The target is looked up for every connection (a
 * service started after the rig is found; one that is down closes the connection at once).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface Forward {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Where to connect for a new client; undefined: refuse it. */
  readonly target: () => { host: string; port: number } | undefined;
}

/** Connects to `to` and pipes `client` to it both ways; either side ending closes both. Returns the upstream socket. */
export function splice(client: Socket, to: { host: string; port: number }): Socket {
  const upstream = createConnection(to);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
  return upstream;
}

/** Listens for `f` and pipes each connection to its target; resolves once listening. */
export function startForward(f: Forward, log: (line: string) => void): Promise<Server> {
  const server = createServer((client) => {
    const to = (() => {
      try {
        return f.target();
      } catch {
        return undefined;
      }
    })();
    if (!to) {
      client.destroy();
      return;
    }
    splice(client, to);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot forward ${f.name} on ${f.host}:${f.port}: ${err.message}`, { cause: err })));
    server.listen(f.port, f.host, () => {
      log(`forwarding ${f.host}:${f.port} to ${f.name}`);
      resolve(server);
    });
  });
}
