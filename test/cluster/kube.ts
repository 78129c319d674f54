// Small helpers for cluster tests: API clients from a kubeconfig, the real helm binary, namespaces.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import type { HelmMajor } from '../../scripts/setup/helm.ts';

/** Typed clients for one kubeconfig. */
export function clients(kubeconfigPath: string) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

/** A namespace name nobody else uses (suites may run against a rig that is kept between runs). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a helm binary against a kubeconfig, with helm's own state kept under .tmp/ (never in ~). */
export function helm(path: string, kubeconfig: string, args: string[], timeoutMs = 120_000): Promise<HelmResult> {
  const home = join(PROJECT_ROOT, '.tmp', 'helm-home');
  mkdirSync(home, { recursive: true });
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(path, args, { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Polls `probe` every 200 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(200);
  }
}

/** The helm majors the cluster suite runs with. */
export const HELM_MAJORS: HelmMajor[] = [3, 4];

/**
 * The status code and message of a failed API call (403, 409, 422…), or undefined if it succeeded.
 * Other errors (network, TLS) are rethrown.
 */
export async function apiErrorCode(call: Promise<unknown>): Promise<{ code: number; message: string } | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    if (!(err instanceof k8s.ApiException)) throw err;
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const message = body && typeof body === 'object' && 'message' in body ? String(body.message) : String(err.body);
    return { code: err.code, message };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
