/**
 * The `Kube` for a kubeconfig context: the HTTPS reader (https.ts) for every kubeconfig it speaks —
 * certificates, tokens, token files, exec credential plugins, in-cluster accounts — and client-node
 * for the rest (legacy auth providers, proxies).
 */
import type { KubeTarget } from './client.ts';
import { HttpsKube } from './https.ts';
import type { Kube } from './kube.ts';
import { loadConnection } from './kubeconfig.ts';

export type { KubeTarget };

/** Loads the kubeconfig and returns a `Kube` for its context; a missing or unusable kubeconfig fails with what to do. */
export async function connectKube(target: KubeTarget): Promise<Kube> {
  const conn = loadConnection(target);
  if (conn.unsupported) return (await import('./client.ts')).connectClientNode(target);
  return new HttpsKube(conn);
}
