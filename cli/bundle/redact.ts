/**
 * Keeping secrets out of a support bundle. Every value of the namespace's Secrets — and what hides
 * inside one: the password of a URL, the strings of a JSON document, its base64 form — is replaced
 * by a marker naming the Secret and key it came from, in every file of the bundle. Values files are
 * also redacted by key name (`password`, `token`…), for credentials that never reached a Secret.
 * Pure: the caller reads the Secrets.
 */
import type { V1Secret } from '@kubernetes/client-node';

/** Values shorter than this are not searched for: they would match ordinary words and names. */
export const MIN_SECRET_LENGTH = 6;

/** A Secret as a bundle shows it: its name, type and key names, never a value. */
export interface SecretSummary {
  readonly name: string;
  readonly type: string;
  readonly keys: readonly string[];
}

export interface Redaction {
  /** Replaces every known secret value in `text`. */
  readonly redact: (text: string) => string;
  readonly secrets: readonly SecretSummary[];
  /** How many distinct strings are searched for. */
  readonly values: number;
  /** `secret/key` of values too short to search for (see MIN_SECRET_LENGTH). */
  readonly tooShort: readonly string[];
}

/** The marker a redacted value leaves, naming where it came from. */
export function marker(secret: string, key: string, part?: string): string {
  return `[REDACTED ${secret}/${key}${part ? ` ${part}` : ''}]`;
}

/** The Secret type of helm's release records: they hold values and manifests, which the bundle redacts on their own. */
export const HELM_RECORD = 'helm.sh/release.v1';

/** Every string worth searching for in one Secret value, with the marker it gets. */
function needlesOf(value: string, secret: string, key: string): { needle: string; label: string }[] {
  const out = [{ needle: value, label: marker(secret, key) }];
  try {
    const url = new URL(value);
    if (url.password) {
      out.push({ needle: url.password, label: marker(secret, key, 'password') });
      out.push({ needle: decodeURIComponent(url.password), label: marker(secret, key, 'password') });
    }
  } catch {
    // not a URL
  }
  if (/^\s*[[{]/.test(value)) {
    try {
      const leaves: string[] = [];
      const walk = (v: unknown) => {
        if (typeof v === 'string') leaves.push(v);
        else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
      };
      walk(JSON.parse(value));
      for (const l of leaves) out.push({ needle: l, label: marker(secret, key, 'field') });
    } catch {
      // not JSON
    }
  }
  out.push({ needle: Buffer.from(value).toString('base64'), label: marker(secret, key, 'base64') });
  return out;
}

/** A redactor for the values of these Secrets (helm's release records are listed, not searched). */
export function redactionFrom(secrets: readonly V1Secret[]): Redaction {
  const found = new Map<string, string>();
  const tooShort: string[] = [];
  const summaries: SecretSummary[] = [];
  for (const s of secrets) {
    const name = s.metadata?.name ?? '?';
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
    for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = v;
    summaries.push({ name, type: s.type ?? 'Opaque', keys: Object.keys(data).sort() });
    if (s.type === HELM_RECORD) continue;
    for (const [key, value] of Object.entries(data)) {
      if (value.trim().length < MIN_SECRET_LENGTH) {
        if (value.trim()) tooShort.push(`${name}/${key}`);
        continue;
      }
      for (const { needle, label } of needlesOf(value, name, key)) {
        if (needle.length >= MIN_SECRET_LENGTH && !found.has(needle)) found.set(needle, label);
      }
    }
  }
  // Longest first: a URL goes as a whole before the password inside it is looked for.
  const needles = [...found.entries()].sort((a, b) => b[0].length - a[0].length);
  const redact = (text: string) => {
    let out = text;
    for (const [needle, label] of needles) if (out.includes(needle)) out = out.split(needle).join(label);
    return out;
  };
  return { redact, secrets: summaries.sort((a, b) => a.name.localeCompare(b.name)), values: needles.length, tooShort };
}

/** Keys whose string values are credentials; `existingSecret`, `passwordKey` and the like only name one. */
const CREDENTIAL_KEY = /(password|passwd|secret|token|credentials?|apikey|api_key|secretkey|secret_key|accesskey|access_key|privatekey|private_key)$/i;
const NAMES_A_SECRET = /^existing/i;

/** A values tree with every credential-looking string value replaced by a marker. */
export function redactValues(values: unknown, path = ''): unknown {
  if (Array.isArray(values)) return values.map((v, i) => redactValues(v, `${path}[${i}]`));
  if (!values || typeof values !== 'object') return values;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const here = path ? `${path}.${k}` : k;
    out[k] = typeof v === 'string' && v !== '' && CREDENTIAL_KEY.test(k) && !NAMES_A_SECRET.test(k) ? `[REDACTED value of ${here}]` : redactValues(v, here);
  }
  return out;
}
