/**
 * node-address: writes the address of the Node this pod runs on to a file, for the game server to
 * announce in its WebRTC candidates (MMO_UDP_ANNOUNCE_FILE). Runs as an init container in the
 * chart's per-node UDP modes (nodePort, hostPort, hostNetwork), where players send UDP to the node.
 *
 *   node server/src/node-address.ts --node=<name> [--address-types=ExternalIP,InternalIP] --out=<file>
 *
 * Reads the Node through the in-cluster API with the service-account token and CA projected into
 * this container only (the ServiceAccount may `get nodes`, nothing else). Exits non-zero with one
 * line saying what is wrong and how to fix it; on success the file holds exactly one address.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { isIPv4 } from 'node:net';

export const ADDRESS_TYPES = ['ExternalIP', 'InternalIP'] as const;
export type AddressType = (typeof ADDRESS_TYPES)[number];

/** One entry of a Node's status.addresses. */
export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface Options {
  readonly node: string;
  readonly addressTypes: readonly AddressType[];
  readonly out: string;
  /** Directory holding token and ca.crt (the projected service-account volume). */
  readonly credentialsDir: string;
  /** https://host:port of the API server. */
  readonly apiServer: string;
  readonly timeoutMs: number;
}

/** A failure with a message fit for the pod's termination log. */
export class NodeAddressError extends Error {
  override readonly name = 'NodeAddressError';
}

const DEFAULT_CREDENTIALS = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Options from flags, falling back to NODE_NAME, MMO_UDP_ANNOUNCE_FILE and the in-cluster API variables. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (!m) throw new NodeAddressError(`unexpected argument "${arg}": flags are --node=, --address-types=, --out=, --credentials-dir=, --api-server=, --timeout-ms=`);
    if (!['node', 'address-types', 'out', 'credentials-dir', 'api-server', 'timeout-ms'].includes(m[1]!)) throw new NodeAddressError(`unknown flag --${m[1]}`);
    flags.set(m[1]!, m[2]!);
  }
  const node = flags.get('node') || env.NODE_NAME;
  if (!node) throw new NodeAddressError('no node name: pass --node=<name> or set NODE_NAME (the chart sets it from spec.nodeName)');
  const out = flags.get('out') || env.MMO_UDP_ANNOUNCE_FILE;
  if (!out) throw new NodeAddressError('no output file: pass --out=<file> or set MMO_UDP_ANNOUNCE_FILE');
  const types = (flags.get('address-types') ?? 'ExternalIP').split(',').map((t) => t.trim()).filter(Boolean);
  if (types.length === 0) throw new NodeAddressError('--address-types is empty: expected a comma list of ExternalIP, InternalIP');
  for (const t of types) {
    if (!(ADDRESS_TYPES as readonly string[]).includes(t)) throw new NodeAddressError(`--address-types: "${t}" is not one of ${ADDRESS_TYPES.join(', ')}`);
  }
  let apiServer = flags.get('api-server');
  if (!apiServer) {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host) throw new NodeAddressError('KUBERNETES_SERVICE_HOST is not set: run inside a pod, or pass --api-server=https://host:port');
    apiServer = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  const timeoutMs = Number(flags.get('timeout-ms') ?? '10000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new NodeAddressError(`--timeout-ms must be an integer ≥ 100, got "${flags.get('timeout-ms')}"`);
  return { node, addressTypes: types as AddressType[], out, credentialsDir: flags.get('credentials-dir') ?? DEFAULT_CREDENTIALS, apiServer, timeoutMs };
}

/**
 * The address to announce: the first type in `preference` the node has; within a type an IPv4
 * address before IPv6 (players' networks reach IPv4 more often). Throws naming what the node has.
 */
export function chooseAddress(node: string, addresses: readonly NodeAddress[], preference: readonly AddressType[]): string {
  for (const type of preference) {
    const ofType = addresses.filter((a) => a.type === type && a.address.trim() !== '').map((a) => a.address.trim());
    const chosen = ofType.find((a) => isIPv4(a)) ?? ofType[0];
    if (chosen) return chosen;
  }
  const has = addresses.length ? addresses.map((a) => `${a.type} ${a.address}`).join(', ') : 'no addresses at all';
  const hint = preference.includes('InternalIP')
    ? 'give the node an address of one of these types'
    : 'give the node an external address, or accept internal ones: --set-json \'udp.announce.addressTypes=["ExternalIP","InternalIP"]\'';
  throw new NodeAddressError(`node ${node} has no ${preference.join(' or ')} address (it has ${has}): ${hint}`);
}

/** A one-line explanation of a failed GET of the Node. */
export function describeApiFailure(node: string, status: number, body: string): string {
  const reason = (() => {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body.trim();
    } catch {
      return body.trim();
    }
  })().slice(0, 300);
  if (status === 401) return `the API server rejected the service-account token (401: ${reason}): check the projected token volume`;
  if (status === 403) return `not allowed to get node ${node} (403: ${reason}): the pod's ServiceAccount needs the chart's node-reader ClusterRole (get nodes)`;
  if (status === 404) return `node ${node} does not exist (404): NODE_NAME must come from spec.nodeName`;
  return `GET node ${node} failed with HTTP ${status}: ${reason}`;
}

async function readCredential(dir: string, file: string): Promise<string> {
  try {
    return await readFile(`${dir}/${file}`, 'utf8');
  } catch (err) {
    throw new NodeAddressError(`cannot read ${dir}/${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): this container needs the projected service-account volume the chart mounts`, { cause: err });
  }
}

/** status.addresses of the Node, read from the API server. */
export async function readNodeAddresses(opts: Options): Promise<NodeAddress[]> {
  const token = (await readCredential(opts.credentialsDir, 'token')).trim();
  const ca = await readCredential(opts.credentialsDir, 'ca.crt');
  const url = new URL(`/api/v1/nodes/${encodeURIComponent(opts.node)}`, opts.apiServer);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'GET', ca, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: opts.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => reject(new NodeAddressError(`cannot reach the API server at ${opts.apiServer}: ${err.message} (NetworkPolicy egress to the API server? see networkPolicy.apiServerCIDRs)`, { cause: err })));
    req.end();
  });
  if (status !== 200) throw new NodeAddressError(describeApiFailure(opts.node, status, body));
  const nodeObj = JSON.parse(body) as { status?: { addresses?: NodeAddress[] } };
  return nodeObj.status?.addresses ?? [];
}

/** Reads the node, chooses the address, writes it (atomically) and returns it. */
export async function run(opts: Options): Promise<string> {
  const address = chooseAddress(opts.node, await readNodeAddresses(opts), opts.addressTypes);
  const tmp = `${opts.out}.tmp`;
  await writeFile(tmp, `${address}\n`);
  await rename(tmp, opts.out);
  return address;
}

if (import.meta.main) {
  try {
    const opts = parseArgs(process.argv.slice(2), process.env);
    const address = await run(opts);
    process.stdout.write(`node-address: ${opts.node} → ${address} (written to ${opts.out})\n`);
  } catch (err) {
    process.stderr.write(`node-address: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
