/**
 * Writing a support bundle: one `.tar.gz` holding a folder named after the archive, with every part
 * and `bundle.json` — the index of what is in it, what could not be collected and why, and how
 * secrets were redacted. The same index is the command's `SupportBundle` document
 * (its definition in cli/schemas/mmoctl.schema.json).
 */
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { create } from 'tar';
import type { ReleaseRef } from '../helm/helm.ts';
import { document, type Document } from '../ui/output.ts';
import type { BundleContents, MissingPart } from './collect.ts';
import { HELM_RECORD, MIN_SECRET_LENGTH } from './redact.ts';

const SUFFIX = '.tar.gz';

export interface SupportBundle {
  /** The archive, as an absolute path. */
  readonly path: string;
  readonly release: string;
  readonly namespace: string;
  readonly createdAt: string;
  /** Size of the archive in bytes. */
  readonly bytes: number;
  readonly parts: readonly { readonly path: string; readonly what: string; readonly bytes: number }[];
  readonly missing: readonly MissingPart[];
  readonly redaction: {
    readonly secrets: readonly string[];
    readonly values: number;
    readonly minLength: number;
    readonly tooShort: readonly string[];
    readonly note: string;
  };
}

/** `mmoctl-support-<release>-<UTC time>.tar.gz`. */
export function defaultBundleName(release: string, createdAt: string): string {
  return `mmoctl-support-${release}-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}${SUFFIX}`;
}

/** Where the archive goes: `--out FILE`, into `--out DIR`, or the default name in the working directory. */
export function bundlePath(out: string | undefined, release: string, createdAt: string): string {
  const name = defaultBundleName(release, createdAt);
  if (!out) return resolve(name);
  return existsSync(out) && statSync(out).isDirectory() ? resolve(out, name) : resolve(out);
}

export function supportBundleDocument(b: SupportBundle): Document {
  return document('SupportBundle', b);
}

/** Writes the archive (readable by its owner only) and resolves with its index. */
export async function writeBundle(path: string, ref: ReleaseRef, contents: BundleContents): Promise<SupportBundle> {
  const top = basename(path).endsWith(SUFFIX) ? basename(path).slice(0, -SUFFIX.length) : basename(path).replace(/\.tgz$/, '');
  const tmp = await mkdtemp(join(tmpdir(), 'mmoctl-bundle-'));
  try {
    for (const p of contents.parts) {
      const file = join(tmp, top, p.path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, p.text);
    }
    const index = (bytes: number, at: string): SupportBundle => ({
      path: at,
      release: ref.release,
      namespace: ref.namespace,
      createdAt: contents.createdAt,
      bytes,
      parts: contents.parts.map((p) => ({ path: p.path, what: p.what, bytes: Buffer.byteLength(p.text) })),
      missing: contents.missing,
      redaction: {
        secrets: contents.secrets.filter((s) => s.type !== HELM_RECORD).map((s) => s.name),
        values: contents.redaction.values,
        minLength: MIN_SECRET_LENGTH,
        tooShort: contents.redaction.tooShort,
        note: `every value of these Secrets (and the password of a URL, the strings of a JSON value, the base64 form) is replaced by [REDACTED <secret>/<key>] in every file; values shorter than ${MIN_SECRET_LENGTH} characters are not searched for (tooShort names them); values files also have credential-named keys redacted`,
      },
    });
    // Inside the archive the index names the archive, not a path on this machine.
    await writeFile(join(tmp, top, 'bundle.json'), `${JSON.stringify(supportBundleDocument(index(0, basename(path))), null, 2)}\n`);
    await mkdir(dirname(path), { recursive: true });
    await create({ gzip: true, file: path, cwd: tmp, portable: true }, [top]);
    await chmod(path, 0o600);
    return index((await stat(path)).size, path);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
