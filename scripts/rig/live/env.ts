/**
 * The environment a container starts with, assembled the way the kubelet does it (envFrom first, in
 * order, each key with its optional prefix; then env, where `$(NAME)` refers to a variable defined
 * before it; later entries win), from objects a caller can look up: live objects for the live rig's
 * kubelet, rendered manifests in the chart suite. Each variable also says where it came from, so tests
 * can insist that credentials only ever come from Secrets.
 */

/** Where a variable's value came from. */
export type EnvSource = 'configMap' | 'secret' | 'field' | 'value';

export interface ResolvedVar {
  value: string;
  source: EnvSource;
  /** For configMap/secret sources: the object and key read. */
  from?: { name: string; key?: string };
}

interface KeyRef {
  name?: string;
  key: string;
  optional?: boolean;
}

/** The parts of a container spec the environment depends on (a V1Container or a rendered one). */
export interface EnvContainer {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef; fieldRef?: { fieldPath: string }; resourceFieldRef?: unknown } }[];
  envFrom?: { prefix?: string; configMapRef?: { name?: string; optional?: boolean }; secretRef?: { name?: string; optional?: boolean } }[];
}

/** The data of a ConfigMap or Secret (Secret data base64-decoded), or undefined when it does not exist. */
export type ObjectData = (kind: 'ConfigMap' | 'Secret', name: string) => Record<string, string> | undefined;

/** Values of `fieldRef` paths for the pod being assembled (e.g. metadata.name, status.podIP). */
export type FieldValues = Record<string, string>;

/** Thrown when the kubelet would refuse to start the container (its CreateContainerConfigError): a missing object or key. */
export class UnresolvedEnvError extends Error {}

/**
 * Resolves every variable of `container`. A reference to an object `data` does not know throws
 * UnresolvedEnvError naming it (as the kubelet's CreateContainerConfigError would), unless the
 * reference is optional.
 */
export function resolveContainerEnv(container: EnvContainer, data: ObjectData, fields: FieldValues): Record<string, ResolvedVar> {
  const out: Record<string, ResolvedVar> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const d = data(kind, ref.name ?? '');
    if (!d) {
      if (ref.optional) continue;
      throw new UnresolvedEnvError(`${container.name}: envFrom ${kind} ${ref.name} does not exist`);
    }
    for (const [k, v] of Object.entries(d)) {
      out[`${from.prefix ?? ''}${k}`] = { value: v, source: kind === 'ConfigMap' ? 'configMap' : 'secret', from: { name: ref.name ?? '' } };
    }
  }
  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (e.value !== undefined || !vf) {
      out[e.name] = { value: expandReferences(e.value ?? '', envValues(out)), source: 'value' };
      continue;
    }
    const keyRef = vf.secretKeyRef ?? vf.configMapKeyRef;
    if (keyRef) {
      const kind = vf.secretKeyRef ? 'Secret' : 'ConfigMap';
      const value = data(kind, keyRef.name ?? '')?.[keyRef.key];
      if (value === undefined) {
        if (keyRef.optional) continue;
        throw new UnresolvedEnvError(`${container.name}: ${e.name} reads key ${keyRef.key} of ${kind} ${keyRef.name}, which does not exist`);
      }
      out[e.name] = { value, source: kind === 'Secret' ? 'secret' : 'configMap', from: { name: keyRef.name ?? '', key: keyRef.key } };
    } else if (vf.fieldRef) {
      const value = fields[vf.fieldRef.fieldPath];
      if (value === undefined) throw new UnresolvedEnvError(`${container.name}: ${e.name} reads field ${vf.fieldRef.fieldPath}, which is not known here (known: ${Object.keys(fields).join(', ')})`);
      out[e.name] = { value, source: 'field' };
    } else {
      throw new UnresolvedEnvError(`${container.name}: ${e.name} has a valueFrom this kubelet does not resolve: ${JSON.stringify(vf)}`);
    }
  }
  return out;
}

/** Just the values, as process.env would hold them. */
export function envValues(resolved: Record<string, ResolvedVar>): Record<string, string> {
  return Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, v.value]));
}

/**
 * Kubernetes' `$(NAME)` references in env values, command and args: replaced by the variable when it
 * is defined, left as written when not; `$$` escapes a `$` (`$$(NAME)` stays `$(NAME)`).
 */
export function expandReferences(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.hasOwn(vars, name) ? vars[name]! : match;
  });
}
