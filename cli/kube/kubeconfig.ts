/**
 * Reading a kubeconfig the way kubectl does — `--kubeconfig`, else every file of `$KUBECONFIG`
 * merged (the first definition of a name wins), else `~/.kube/config`, else the in-cluster service
 * account — into what one HTTPS connection needs: the server, its CA, and the user's credentials
 * (client certificate, bearer token or token file, or an `exec` credential plugin such as
 * `aws eks get-token` or `gke-gcloud-auth-plugin`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { FailedError } from '../errors.ts';

interface NamedCluster {
  name: string;
  cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean; 'proxy-url'?: string; 'tls-server-name'?: string };
}
interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
}
interface NamedUser {
  name: string;
  user: {
    'client-certificate'?: string;
    'client-certificate-data'?: string;
    'client-key'?: string;
    'client-key-data'?: string;
    token?: string;
    tokenFile?: string;
    username?: string;
    password?: string;
    exec?: ExecConfig;
    'auth-provider'?: unknown;
  };
}
interface NamedContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string };
}
interface RawConfig {
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
  'current-context'?: string;
}

/** What one connection to the API server needs. */
export interface Connection {
  readonly context: string;
  readonly server: string;
  readonly user: string;
  readonly ca?: Buffer;
  readonly insecure: boolean;
  readonly servername?: string;
  /** Client certificate and key, when the user authenticates with one. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Resolves the current bearer token (refreshed from a token file or an exec plugin when due). */
  readonly token?: () => Promise<string | undefined>;
  readonly basic?: { readonly username: string; readonly password: string };
  /** Set when the kubeconfig uses something this reader does not speak (legacy auth providers, proxies). */
  readonly unsupported?: string;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The files kubectl would read, in order. */
export function kubeconfigFiles(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (flag) return [resolve(flag)];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter(Boolean).map((f) => resolve(f));
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/** The connection for `context` (default: the current one). */
export function loadConnection(target: { kubeconfig?: string; context?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const files = kubeconfigFiles(target.kubeconfig, env).filter((f) => target.kubeconfig || existsSync(f));
  if (!files.length) {
    if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT, 'token'))) return inCluster(env);
    throw new FailedError('no Kubernetes configuration: --kubeconfig is not given, KUBECONFIG is unset and ~/.kube/config does not exist.', {
      hint: "Point mmoctl at a cluster with --kubeconfig FILE or KUBECONFIG (your cloud's CLI writes one: `aws eks update-kubeconfig`, `gcloud container clusters get-credentials`, `az aks get-credentials`).",
    });
  }
  const merged: Required<Pick<RawConfig, 'clusters' | 'users' | 'contexts'>> & { current?: string; base: Map<object, string> } = { clusters: [], users: [], contexts: [], base: new Map() };
  for (const file of files) {
    let raw: RawConfig;
    try {
      raw = (parse(readFileSync(file, 'utf8')) ?? {}) as RawConfig;
    } catch (err) {
      throw new FailedError(`cannot read the kubeconfig ${file}: ${(err as Error).message.split('\n')[0]}`, { hint: 'Point mmoctl at another with --kubeconfig FILE or KUBECONFIG.', cause: err });
    }
    const add = <T extends { name: string }>(into: T[], items: T[] | undefined) => {
      for (const item of items ?? []) {
        if (into.some((x) => x.name === item.name)) continue;
        into.push(item);
        merged.base.set(item, dirname(file));
      }
    };
    add(merged.clusters, raw.clusters);
    add(merged.users, raw.users);
    add(merged.contexts, raw.contexts);
    merged.current ??= raw['current-context'] || undefined;
  }
  const contextName = target.context ?? merged.current;
  if (!contextName) throw new FailedError('the kubeconfig has no current context.', { hint: 'Choose one with --context NAME (`kubectl config get-contexts` lists them).' });
  const ctx = merged.contexts.find((c) => c.name === contextName);
  if (!ctx) {
    throw new FailedError(`the kubeconfig has no context "${contextName}"; it has: ${merged.contexts.map((c) => c.name).join(', ') || 'none'}.`, { hint: 'List contexts with `kubectl config get-contexts`.' });
  }
  const cluster = merged.clusters.find((c) => c.name === ctx.context.cluster);
  if (!cluster?.cluster?.server) throw new FailedError(`context "${contextName}" names cluster "${ctx.context.cluster}", which the kubeconfig does not define (or has no server).`);
  const user = merged.users.find((u) => u.name === ctx.context.user);
  const base = (o: object) => merged.base.get(o) ?? process.cwd();
  const file = (path: string | undefined, o: object) => (path ? readFileSync(isAbsolute(path) ? path : join(base(o), path)) : undefined);
  const data = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64') : undefined);
  const c = cluster.cluster;
  const u = user?.user ?? {};
  const unsupported = u['auth-provider'] ? 'an auth-provider' : c['proxy-url'] ? 'a proxy-url' : undefined;
  return {
    context: contextName,
    server: c.server.replace(/\/+$/, ''),
    user: ctx.context.user,
    ca: data(c['certificate-authority-data']) ?? file(c['certificate-authority'], cluster),
    insecure: c['insecure-skip-tls-verify'] === true,
    servername: c['tls-server-name'],
    cert: data(u['client-certificate-data']) ?? (user ? file(u['client-certificate'], user) : undefined),
    key: data(u['client-key-data']) ?? (user ? file(u['client-key'], user) : undefined),
    token: u.token ? async () => u.token : u.tokenFile ? async () => readFileSync(u.tokenFile!, 'utf8').trim() : u.exec ? execToken(u.exec, user ? base(user) : process.cwd()) : undefined,
    basic: u.username && u.password ? { username: u.username, password: u.password } : undefined,
    unsupported,
  };
}

function inCluster(env: NodeJS.ProcessEnv): Connection {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    context: 'in-cluster',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    user: 'serviceaccount',
    ca: readFileSync(join(SERVICE_ACCOUNT, 'ca.crt')),
    insecure: false,
    token: async () => readFileSync(join(SERVICE_ACCOUNT, 'token'), 'utf8').trim(),
  };
}

/**
 * A client.authentication.k8s.io exec plugin: runs the command (as kubectl does, with
 * KUBERNETES_EXEC_INFO) and keeps its token until the expiry it states.
 */
function execToken(exec: ExecConfig, cwd: string): () => Promise<string | undefined> {
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.until) return cached.token;
    const env = { ...process.env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])) };
    env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', spec: { interactive: false } });
    const stdout = await new Promise<string>((res, rej) =>
      execFile(exec.command, exec.args ?? [], { env, cwd, timeout: 60_000 }, (err, out, errOut) =>
        err ? rej(new FailedError(`the kubeconfig's credential plugin \`${exec.command}\` failed: ${(errOut || err.message).trim().split('\n')[0]}`, { hint: 'Log in with your cloud\'s CLI again, then retry.', cause: err })) : res(out),
      ),
    );
    const status = (JSON.parse(stdout) as { status?: { token?: string; expirationTimestamp?: string } }).status ?? {};
    if (!status.token) throw new FailedError(`the kubeconfig's credential plugin \`${exec.command}\` returned no token (client certificates from plugins are not supported; use --kubeconfig with a token or certificate).`);
    cached = { token: status.token, until: status.expirationTimestamp ? Date.parse(status.expirationTimestamp) - 30_000 : Date.now() + 5 * 60_000 };
    return cached.token;
  };
}
