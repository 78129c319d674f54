/**
 * Whether a rig runs: per component, its process (alive, resident memory), then the API server's
 * /readyz and the number of Ready nodes, read with the admin client certificate.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { kubeconfigFiles } from './kubeconfig.ts';
import { expectedComponents, isOurs, rssKiB, type Component, type StateFile } from './processes.ts';

export interface ComponentStatus {
  readonly name: Component;
  readonly pid: number;
  readonly running: boolean;
  /** Resident memory in KiB (0 when not running). */
  readonly rssKiB: number;
}

export interface RigStatus {
  readonly stateDir: string;
  /** `running`: every process alive and /readyz ok; `broken`: some state but not healthy; `down`: none. */
  readonly state: 'running' | 'broken' | 'down';
  readonly server?: string;
  readonly kubeconfig?: string;
  readonly restrictedKubeconfig?: string;
  readonly components: ComponentStatus[];
  readonly readyz?: string;
  readonly nodesReady?: number;
  readonly totalRssKiB: number;
}

/** One line saying what is wrong with a rig that is not healthy. */
export function describe(st: RigStatus): string {
  const dead = st.components.filter((c) => !c.running).map((c) => c.name);
  return [dead.length ? `not running: ${dead.join(', ')}` : '', st.readyz ? `readyz: ${st.readyz}` : '', `nodes ready: ${st.nodesReady ?? 0}`]
    .filter(Boolean)
    .join('; ');
}

/** GET on the API server with a client certificate; resolves with status code and body. */
export function apiGet(server: string, path: string, pki: { ca: Buffer; cert: Buffer; key: Buffer }, timeoutMs = 3000): Promise<{ code: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(new URL(path, server), { ca: pki.ca, cert: pki.cert, key: pki.key, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolveGet({ code: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The admin client certificate of the rig in `stateDir`, for apiGet. */
export async function adminTls(stateDir: string): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
  const dir = join(stateDir, 'pki');
  const [ca, cert, key] = await Promise.all([readFile(join(dir, 'ca.crt')), readFile(join(dir, 'admin.crt')), readFile(join(dir, 'admin.key'))]);
  return { ca, cert, key };
}

/** The status of the rig recorded in `state`. */
export async function collectStatus(stateDir: string, state: StateFile): Promise<RigStatus> {
  const components = state.processes.map((p) => {
    const running = isOurs(p);
    return { name: p.name, pid: p.pid, running, rssKiB: running ? rssKiB(p.pid) : 0 };
  });
  const totalRssKiB = components.reduce((a, c) => a + c.rssKiB, 0);
  const paths = kubeconfigFiles(stateDir);
  const base = { stateDir, server: state.server, kubeconfig: paths.admin, restrictedKubeconfig: paths.restricted, components, totalRssKiB };
  const allUp = expectedComponents(state).every((n) => components.some((c) => c.name === n && c.running));
  let readyz: string | undefined;
  let nodesReady: number | undefined;
  try {
    const tls = await adminTls(stateDir);
    const r = await apiGet(state.server, '/readyz', tls);
    readyz = r.code === 200 ? 'ok' : `HTTP ${r.code}`;
    if (r.code === 200) nodesReady = await countReadyNodes(state.server, tls);
  } catch (err) {
    readyz = `unreachable (${(err as Error).message})`;
  }
  return { ...base, state: allUp && readyz === 'ok' ? 'running' : 'broken', readyz, nodesReady };
}

/** Nodes whose Ready condition is True. */
export async function countReadyNodes(server: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<number> {
  const r = await apiGet(server, '/api/v1/nodes', tls);
  if (r.code !== 200) return 0;
  const list = JSON.parse(r.body) as k8s.V1NodeList;
  return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
}
