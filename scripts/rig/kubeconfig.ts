/**
 * The rig's kubeconfigs: admin (system:masters, a client certificate), one per control-plane
 * component, and the restricted one (a ServiceAccount token valid in RESTRICTED_NAMESPACE only,
 * issued again on every `up` so a kept rig never hands out an expired one).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { RESTRICTED_NAMESPACE, RESTRICTED_USER } from './cluster.ts';
import { pemData, type Pki } from './pki.ts';

/** Where the rig in `stateDir` keeps the kubeconfigs `up` writes (they exist only while it is up). */
export function kubeconfigFiles(stateDir: string): { admin: string; restricted: string } {
  return { admin: join(stateDir, 'admin.kubeconfig'), restricted: join(stateDir, 'restricted.kubeconfig') };
}

function kubeconfig(server: string, caData: string, user: string, userEntry: Record<string, string>, namespace?: string): string {
  const ctx = namespace ? `mmoctl-rig-${namespace}` : 'mmoctl-rig';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'mmoctl-rig', cluster: { server, 'certificate-authority-data': caData } }],
    users: [{ name: user, user: userEntry }],
    contexts: [{ name: ctx, context: { cluster: 'mmoctl-rig', user, ...(namespace ? { namespace } : {}) } }],
    'current-context': ctx,
  });
}

/** Writes a kubeconfig authenticating as client certificate `id` of `pki`. */
export async function certKubeconfig(path: string, server: string, pki: Pki, id: string): Promise<void> {
  const c = pki.clients[id]!;
  const body = kubeconfig(server, await pemData(pki.caCert), id, {
    'client-certificate-data': await pemData(c.cert),
    'client-key-data': await pemData(c.key),
  });
  await writeFile(path, body, { mode: 0o600 });
}

/** Writes the restricted kubeconfig with a fresh token (7 days) of the tenant ServiceAccount. */
export async function writeRestrictedKubeconfig(kc: k8s.KubeConfig, path: string, server: string, caData: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    name: RESTRICTED_USER,
    namespace: RESTRICTED_NAMESPACE,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 7 * 24 * 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error('the API server returned no token for the restricted ServiceAccount');
  await writeFile(path, kubeconfig(server, caData, `system:serviceaccount:${RESTRICTED_NAMESPACE}:${RESTRICTED_USER}`, { token }, RESTRICTED_NAMESPACE), {
    mode: 0o600,
  });
}
