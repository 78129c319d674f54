/**
 * A process pod's volumes, made as a kubelet makes them, as directories under the pod's directory
 * in the rig's state: emptyDir (empty), configMap and secret (their keys as files), projected
 * (service-account tokens requested for this pod, configMap/secret items, downward API fields) and
 * downwardAPI. Each container then sees them at its mountPaths (see mountScript). Made once when
 * the pod starts: tokens are not refreshed, ConfigMap changes are not followed.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type * as k8s from '@kubernetes/client-node';

/** What volumes need from the API server. */
export interface VolumeSources {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** A token of `serviceAccount` bound to the pod, for `audience` (default: the API server's). */
  token(pod: k8s.V1Pod, audience: string | undefined, expirationSeconds: number): Promise<string>;
}

/** Thrown when a volume cannot be made; the message names the volume and why (the pod's event). */
export class VolumeError extends Error {}

/** The value of a downward API field of `pod` (metadata.*, spec.nodeName, status.podIP …); undefined when unknown. */
export function podField(pod: k8s.V1Pod, path: string, podIP: string, hostIP: string): string | undefined {
  const m = pod.metadata ?? {};
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (labelOrAnnotation) return (labelOrAnnotation[1] === 'labels' ? m.labels : m.annotations)?.[labelOrAnnotation[2]!];
  const kv = (o: Record<string, string> | undefined) => Object.entries(o ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
  const fields: Record<string, string | undefined> = {
    'metadata.name': m.name,
    'metadata.namespace': m.namespace,
    'metadata.uid': m.uid,
    'metadata.labels': kv(m.labels),
    'metadata.annotations': kv(m.annotations),
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': podIP,
    'status.podIPs': podIP,
    'status.hostIP': hostIP,
    'status.hostIPs': hostIP,
  };
  return fields[path];
}

async function writeItems(dir: string, data: Record<string, string>, items: k8s.V1KeyToPath[] | undefined, mode: number, what: string): Promise<void> {
  const entries = items?.length
    ? items.map((i) => {
        if (!(i.key in data)) throw new VolumeError(`${what} has no key ${i.key}`);
        return [i.path, data[i.key]!, i.mode] as const;
      })
    : Object.entries(data).map(([k, v]) => [k, v, undefined] as const);
  for (const [path, value, itemMode] of entries) await writeFileIn(dir, path, value, itemMode ?? mode);
}

async function writeFileIn(dir: string, path: string, value: string, mode: number): Promise<void> {
  const file = join(dir, normalize(path));
  if (!file.startsWith(`${dir}/`)) throw new VolumeError(`volume item path ${path} leaves its volume`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, value);
  await chmod(file, mode);
}

/** Makes every volume of `pod` under `dir/<volume>`; returns the directory of each volume by name. */
export async function makeVolumes(pod: k8s.V1Pod, dir: string, sources: VolumeSources, podIP: string, hostIP: string): Promise<Map<string, string>> {
  const ns = pod.metadata!.namespace!;
  const made = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    const vdir = join(dir, v.name);
    await mkdir(vdir, { recursive: true, mode: 0o777 });
    await chmod(vdir, 0o777);
    made.set(v.name, vdir);
    if (v.emptyDir) continue;
    if (v.configMap || v.secret) {
      const name = v.configMap?.name ?? v.secret!.secretName ?? '';
      const data = v.configMap ? await sources.configMap(ns, name) : await sources.secret(ns, name);
      const optional = v.configMap?.optional ?? v.secret?.optional ?? false;
      if (!data) {
        if (optional) continue;
        throw new VolumeError(`volume ${v.name}: ${v.configMap ? 'ConfigMap' : 'Secret'} ${name} does not exist`);
      }
      await writeItems(vdir, data, v.configMap?.items ?? v.secret?.items, v.configMap?.defaultMode ?? v.secret?.defaultMode ?? 0o644, `volume ${v.name}`);
      continue;
    }
    if (v.projected || v.downwardAPI) {
      const mode = v.projected?.defaultMode ?? v.downwardAPI?.defaultMode ?? 0o644;
      const sourcesOf = v.projected?.sources ?? [{ downwardAPI: v.downwardAPI }];
      for (const s of sourcesOf) {
        if (s.serviceAccountToken) {
          const token = await sources.token(pod, s.serviceAccountToken.audience, s.serviceAccountToken.expirationSeconds ?? 3600);
          await writeFileIn(vdir, s.serviceAccountToken.path, token, mode);
        } else if (s.configMap || s.secret) {
          const name = s.configMap?.name ?? s.secret?.name ?? '';
          const data = s.configMap ? await sources.configMap(ns, name) : await sources.secret(ns, name);
          if (!data) {
            if (s.configMap?.optional ?? s.secret?.optional) continue;
            throw new VolumeError(`volume ${v.name}: ${s.configMap ? 'ConfigMap' : 'Secret'} ${name} does not exist`);
          }
          await writeItems(vdir, data, s.configMap?.items ?? s.secret?.items, mode, `volume ${v.name}`);
        } else if (s.downwardAPI) {
          for (const item of s.downwardAPI.items ?? []) {
            const path = item.fieldRef?.fieldPath;
            const value = path ? podField(pod, path, podIP, hostIP) : undefined;
            if (value === undefined) throw new VolumeError(`volume ${v.name}: downward API item ${item.path} (${path ?? 'resourceFieldRef'}) is not supported by the rig`);
            await writeFileIn(vdir, item.path, value, item.mode ?? mode);
          }
        } else {
          throw new VolumeError(`volume ${v.name}: a projected source the rig does not make: ${Object.keys(s).join(', ')}`);
        }
      }
      continue;
    }
    throw new VolumeError(`volume ${v.name}: only emptyDir, configMap, secret, projected and downwardAPI volumes run on the rig (got ${Object.keys(v).filter((k) => k !== 'name').join(', ')})`);
  }
  return made;
}

/** Paths a mount may target: those that exist on this machine, or any path under /run, /var/run or /tmp. */
const MOUNTABLE_UNDER = ['/run/', '/var/run/', '/tmp/'];

/** Single-quotes a string for sh. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The sh script that runs first in a container's own mount namespace (made by `ip netns exec`):
 * a private tmpfs on /run (so mount points under /run and /var/run can be made without touching the
 * machine), then each volumeMount bound at its mountPath (read-only when asked), then `exec "$@"`.
 * `keep` are host paths the container must still see where they are (the checkout it runs, the
 * rig's pod directories): one is bound aside under /run first and bound back at its own path right
 * after a volume mounted over it (a checkout under /tmp, say, with an emptyDir at /tmp).
 * Throws VolumeError for a mount the rig cannot make (subPath; a path outside those it can create). Pure.
 */
export function mountScript(mounts: readonly k8s.V1VolumeMount[], volumes: ReadonlyMap<string, string>, exists: (path: string) => boolean, keep: readonly string[] = []): string {
  const lines = ['set -e', 'mount -t tmpfs -o mode=755,size=16m rig-run /run'];
  // Only the outermost of nested paths needs keeping.
  const kept = [...new Set(keep)].filter((k, _, all) => !all.some((o) => o !== k && k.startsWith(`${o}/`)));
  const aside = (i: number) => `/run/rig-keep/${i}`;
  kept.forEach((k, i) => lines.push(`mkdir -p ${aside(i)}`, `mount --bind ${shellQuote(k)} ${aside(i)}`));
  for (const m of mounts) {
    const source = volumes.get(m.name);
    if (!source) throw new VolumeError(`volumeMount ${m.name} names no volume of the pod`);
    if (m.subPath || m.subPathExpr) throw new VolumeError(`volumeMount ${m.name}: subPath is not supported by the rig`);
    const target = m.mountPath.startsWith('/var/run/') ? m.mountPath.slice('/var'.length) : m.mountPath;
    const creatable = MOUNTABLE_UNDER.some((p) => `${target}/`.startsWith(p));
    if (!creatable && !exists(target)) throw new VolumeError(`volumeMount ${m.name}: the rig can mount at paths that exist on this machine or under /run and /tmp, not ${m.mountPath}`);
    if (target.startsWith('/run/') || target.startsWith('/tmp/')) lines.push(`mkdir -p ${shellQuote(target)}`);
    lines.push(`mount --bind ${shellQuote(source)} ${shellQuote(target)}`);
    kept.forEach((k, i) => {
      if (k === target || k.startsWith(`${target.replace(/\/+$/, '')}/`)) lines.push(`mkdir -p ${shellQuote(k)}`, `mount --bind ${aside(i)} ${shellQuote(k)}`);
    });
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${shellQuote(target)}`);
  }
  lines.push('exec "$@"');
  return lines.join('\n');
}
