/**
 * The environment a container would start with, assembled the way the kubelet does it (envFrom
 * first, then env; later entries win), from objects a caller can look up: rendered manifests in the
 * chart suite, live objects on the rig in the cluster suite. Each variable also says where it came
 * from, so tests can insist that credentials only ever come from Secrets.
 */
import type { Container } from './chart.ts';

/** Where a variable's value came from. */
export type EnvSource = 'configMap' | 'secret' | 'field' | 'value';

export interface ResolvedVar {
  value: string;
  source: EnvSource;
  /** For configMap/secret sources: the object and key read. */
  from?: { name: string; key?: string };
}

/** The data of a ConfigMap or Secret (Secret data base64-decoded), or undefined when it does not exist. */
export type ObjectData = (kind: 'ConfigMap' | 'Secret', name: string) => Record<string, string> | undefined;

/** Values of `fieldRef` paths for the pod being assembled (e.g. metadata.name). */
export type FieldValues = Record<string, string>;

/** Thrown when the kubelet would refuse to start the container (a missing object or key). */
export class UnresolvedEnvError extends Error {}

/**
 * Resolves every variable of `container`. A reference to an object `data` does not know throws
 * UnresolvedEnvError naming it (as the kubelet's CreateContainerConfigError would), unless the
 * reference is optional.
 */
export function resolveContainerEnv(container: Container, data: ObjectData, fields: FieldValues): Record<string, ResolvedVar> {
  const out: Record<string, ResolvedVar> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const d = data(kind, ref.name);
    if (!d) {
      if ((ref as { optional?: boolean }).optional) continue;
      throw new UnresolvedEnvError(`${container.name}: envFrom ${kind} ${ref.name} does not exist`);
    }
    for (const [k, v] of Object.entries(d)) out[k] = { value: v, source: kind === 'ConfigMap' ? 'configMap' : 'secret', from: { name: ref.name } };
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      out[e.name] = { value: e.value ?? '', source: 'value' };
      continue;
    }
    const vf = e.valueFrom as {
      secretKeyRef?: { name: string; key: string; optional?: boolean };
      configMapKeyRef?: { name: string; key: string; optional?: boolean };
      fieldRef?: { fieldPath: string };
    };
    const keyRef = vf.secretKeyRef ?? vf.configMapKeyRef;
    if (keyRef) {
      const kind = vf.secretKeyRef ? 'Secret' : 'ConfigMap';
      const value = data(kind, keyRef.name)?.[keyRef.key];
      if (value === undefined) {
        if (keyRef.optional) continue;
        throw new UnresolvedEnvError(`${container.name}: ${e.name} reads key ${keyRef.key} of ${kind} ${keyRef.name}, which does not exist`);
      }
      out[e.name] = { value, source: kind === 'Secret' ? 'secret' : 'configMap', from: { name: keyRef.name, key: keyRef.key } };
    } else if (vf.fieldRef) {
      const value = fields[vf.fieldRef.fieldPath];
      if (value === undefined) throw new UnresolvedEnvError(`${container.name}: ${e.name} reads field ${vf.fieldRef.fieldPath}, which the test did not supply`);
      out[e.name] = { value, source: 'field' };
    } else {
      throw new UnresolvedEnvError(`${container.name}: ${e.name} has a valueFrom this helper does not know: ${JSON.stringify(vf)}`);
    }
  }
  return out;
}

/** Just the values, as process.env would hold them. */
export function envValues(resolved: Record<string, ResolvedVar>): Record<string, string> {
  return Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, v.value]));
}
