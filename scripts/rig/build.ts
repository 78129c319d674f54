/**
 * Builds the rig's binaries from Go modules once and caches them outside the repository.
 *
 * - kube-apiserver, kube-controller-manager, kube-scheduler from `k8s.io/kubernetes`,
 * - etcd from `go.etcd.io/etcd/server/v3`,
 * - kwok from `sigs.k8s.io/kwok`.
 *
 * `k8s.io/kubernetes` points its `k8s.io/*` staging modules at `./staging` with replace lines, which
 * only work inside its own repository, so it cannot be `go install`ed. We build it from a small wrapper
 * module that requires it and replaces every `k8s.io/* v0.0.0` listed in *that version's* go.mod with
 * the published `v0.<minor>.<patch>` tag; the list is read from the go.mod, never hard-coded. etcd's
 * server module has replace lines too and is built the same way (its published requirements are real
 * versions). The version strings that `--version` prints come from `-ldflags -X`, as in upstream
 * release builds, so Helm's kubeVersion checks see the true version.
 *
 * Layout: `<cache>/rig/<versions>/bin/<name>` plus `bin/manifest.json`, written last: a directory
 * with a manifest is complete. A build holds `<cache>/rig/<versions>.lock`, so two checkouts never
 * build at once; the second one waits and then finds the binaries.
 *
 * Run as a script: `node scripts/rig/build.ts` builds (or finds) the binaries and prints their paths.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { withLock } from '../lib/lock.ts';

const execFileAsync = promisify(execFile);

/** The component versions the rig runs. Changing one makes a new cache directory (a new build). */
export const RIG_VERSIONS = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
} as const;

export type RigVersions = { readonly kubernetes: string; readonly etcd: string; readonly kwok: string };

/** Names of the cached binaries. */
export const RIG_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type RigBinary = (typeof RIG_BINARIES)[number];

/** What `bin/manifest.json` records about a finished build. */
export interface RigManifest {
  readonly versions: RigVersions;
  readonly go: string;
  readonly builtAt: string;
  /** Wall-clock seconds per component build (a few seconds when Go's build cache already had it). */
  readonly buildSeconds: Record<'kubernetes' | 'etcd' | 'kwok', number>;
  /** First line of each binary's `--version` output. */
  readonly reported: Record<RigBinary, string>;
}

/** Absolute paths of the cached binaries. */
export interface RigBinaries {
  readonly dir: string;
  readonly paths: Record<RigBinary, string>;
  readonly manifest: RigManifest;
  /** True when this call built them, false when they were already cached. */
  readonly built: boolean;
}

export interface BuildOptions {
  readonly versions?: RigVersions;
  /** Progress lines (what is being built, waits for another checkout's build). */
  readonly log?: (line: string) => void;
}

/** Root of the shared cache: `$MMOCTL_CACHE_DIR` or `~/.cache/mmoctl`. */
export function cacheRoot(): string {
  return process.env.MMOCTL_CACHE_DIR || join(homedir(), '.cache', 'mmoctl');
}

/** Cache directory for one set of versions. */
export function rigCacheDir(versions: RigVersions = RIG_VERSIONS): string {
  return join(cacheRoot(), 'rig', `k8s-${versions.kubernetes}_etcd-${versions.etcd}_kwok-${versions.kwok}`);
}

/**
 * The `go` command: `$GO`, else `go` on PATH, else /usr/local/go/bin/go (where this machine kind
 * installs it, often not on PATH in CI shells).
 */
export function findGo(): string {
  const candidates = [process.env.GO, ...(process.env.PATH ?? '').split(delimiter).map((d) => d && join(d, 'go')), '/usr/local/go/bin/go'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error(
    'The Kubernetes rig is built from Go modules, but no `go` command was found (looked at $GO, PATH and /usr/local/go/bin/go).\n' +
      'Fix: install Go ≥ 1.26 (https://go.dev/doc/install) or set GO=/path/to/go.',
  );
}

/** Returns the cached binaries, building them first if this version set has never been built here. */
export async function ensureRigBinaries(opts: BuildOptions = {}): Promise<RigBinaries> {
  const versions = opts.versions ?? RIG_VERSIONS;
  const dir = rigCacheDir(versions);
  const found = await readCached(dir);
  if (found) return { dir, paths: binPaths(dir), manifest: found, built: false };

  const log = opts.log ?? (() => {});
  return withLock(
    `${dir}.lock`,
    {
      purpose: `building the Kubernetes rig binaries into ${dir}`,
      onWait: (holder) => log(`waiting for another build of the rig binaries to finish (${holder})`),
    },
    async () => {
      const again = await readCached(dir); // another checkout may have finished while we waited
      if (again) return { dir, paths: binPaths(dir), manifest: again, built: false };
      const manifest = await build(dir, versions, log);
      return { dir, paths: binPaths(dir), manifest, built: true };
    },
  );
}

function binPaths(dir: string): Record<RigBinary, string> {
  return Object.fromEntries(RIG_BINARIES.map((b) => [b, join(dir, 'bin', b)])) as Record<RigBinary, string>;
}

async function readCached(dir: string): Promise<RigManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'bin', 'manifest.json'), 'utf8')) as RigManifest;
    if (RIG_BINARIES.every((b) => existsSync(join(dir, 'bin', b)))) return manifest;
  } catch {
    // not built yet
  }
  return undefined;
}

interface GoEnv {
  readonly go: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
}

async function build(dir: string, versions: RigVersions, log: (line: string) => void): Promise<RigManifest> {
  const go = findGo();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(go)}${delimiter}${process.env.PATH ?? ''}`,
    // Never download another toolchain; -mod=mod lets the wrapper modules record their go.sum.
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod',
  };
  const goVersion = (await execFileAsync(go, ['env', 'GOVERSION'], { env })).stdout.trim();
  const srcDir = join(dir, 'src');
  const outDir = join(dir, 'bin.partial');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const logFile = join(dir, 'build.log');
  await writeFile(logFile, `# rig build ${new Date().toISOString()} with ${goVersion}\n`);
  const ge: GoEnv = { go, env, logFile };
  log(`building the Kubernetes rig (${versions.kubernetes}, etcd ${versions.etcd}, kwok ${versions.kwok}) with ${goVersion}; ` +
    `the first build on a machine takes about 10 minutes on 2 idle cores (more under load). Log: ${logFile}`);

  const seconds = { kubernetes: 0, etcd: 0, kwok: 0 };
  seconds.kubernetes = await timed(() => buildKubernetes(ge, join(srcDir, 'kubernetes'), outDir, versions.kubernetes, log));
  seconds.etcd = await timed(() => buildEtcd(ge, join(srcDir, 'etcd'), outDir, versions.etcd, log));
  seconds.kwok = await timed(() => buildKwok(ge, join(srcDir, 'kwok'), outDir, versions.kwok, log));

  const reported = await checkReportedVersions(outDir, versions);
  const manifest: RigManifest = { versions, go: goVersion, builtAt: new Date().toISOString(), buildSeconds: seconds, reported };
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await rm(join(dir, 'bin'), { recursive: true, force: true });
  await rename(outDir, join(dir, 'bin'));
  log(`rig binaries ready in ${join(dir, 'bin')} (kubernetes ${seconds.kubernetes}s, etcd ${seconds.etcd}s, kwok ${seconds.kwok}s)`);
  return manifest;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = Date.now();
  await fn();
  return Math.round((Date.now() - t0) / 1000);
}

/** Runs go with output appended to the build log; on failure the error carries the log's tail. */
async function runGo(ge: GoEnv, cwd: string, args: string[]): Promise<string> {
  const out = createWriteStream(ge.logFile, { flags: 'a' });
  await new Promise<void>((resolve) => out.once('open', () => resolve()));
  out.write(`\n$ (cd ${cwd} && go ${args.join(' ')})\n`);
  let captured = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(ge.go, args, { cwd, env: ge.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      out.write(d);
      captured += d.toString();
      if (captured.length > 200_000) captured = captured.slice(-100_000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', resolve);
  });
  await new Promise<void>((resolve) => out.end(resolve));
  if (code !== 0) {
    const tail = captured.trim().split('\n').slice(-25).join('\n');
    throw new Error(`go ${args.join(' ')} failed (exit ${code}) in ${cwd}:\n${tail}\nFull log: ${ge.logFile}`);
  }
  return captured;
}

interface ModuleInfo {
  readonly GoMod: string;
  readonly Info: string;
}

async function downloadModule(ge: GoEnv, cwd: string, modVersion: string): Promise<ModuleInfo> {
  const out = await runGo(ge, cwd, ['mod', 'download', '-json', modVersion]);
  return JSON.parse(out.slice(out.indexOf('{'))) as ModuleInfo;
}

/** Writes a wrapper module: `module`, `go`, one `require` and the given replace lines. */
async function writeWrapper(dir: string, name: string, require: string, replaces: string[] = []): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lines = [`// Generated by scripts/rig/build.ts: a wrapper to build ${require} from the module proxy.`, `module mmoctl.rig/${name}`, '', 'go 1.26.0', '', `require ${require}`, ''];
  if (replaces.length) lines.push('replace (', ...replaces.map((r) => `\t${r}`), ')', '');
  await writeFile(join(dir, 'go.mod'), lines.join('\n'));
}

/**
 * The `k8s.io/*` modules that a k8s.io/kubernetes go.mod requires at the placeholder v0.0.0 (its
 * staging modules). Exported for unit tests.
 */
export function stagingModules(goMod: string): string[] {
  const found = new Set<string>();
  let inRequire = false;
  for (const raw of goMod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line.startsWith('require (')) inRequire = true;
    else if (inRequire && line === ')') inRequire = false;
    const m = /^(?:require\s+)?(k8s\.io\/[A-Za-z0-9._/-]+)\s+v0\.0\.0$/.exec(line);
    if (m && (inRequire || line.startsWith('require'))) found.add(m[1]!);
  }
  return [...found].sort();
}

/** `v1.36.3` → `v0.36.3`, the tag the staging modules are published under. */
export function stagingTag(kubernetesVersion: string): string {
  const m = /^v1\.(\d+)\.(\d+)$/.exec(kubernetesVersion);
  if (!m) throw new Error(`kubernetes version must look like v1.<minor>.<patch>, got ${JSON.stringify(kubernetesVersion)}`);
  return `v0.${m[1]}.${m[2]}`;
}

async function buildKubernetes(ge: GoEnv, src: string, outDir: string, version: string, log: (l: string) => void): Promise<void> {
  await writeWrapper(src, 'kubernetes', `k8s.io/kubernetes ${version}`);
  const mod = await downloadModule(ge, src, `k8s.io/kubernetes@${version}`);
  const staging = stagingModules(await readFile(mod.GoMod, 'utf8'));
  if (staging.length === 0) throw new Error(`found no k8s.io/* v0.0.0 requirements in ${mod.GoMod}; is ${version} a real Kubernetes release?`);
  const tag = stagingTag(version);
  await writeWrapper(src, 'kubernetes', `k8s.io/kubernetes ${version}`, staging.map((m) => `${m} => ${m} ${tag}`));
  const info = JSON.parse(await readFile(mod.Info, 'utf8')) as { Time?: string; Origin?: { Hash?: string } };
  const [, major, minor] = /^v(\d+)\.(\d+)/.exec(version)!;
  const vars: Record<string, string> = {
    gitVersion: version,
    gitMajor: major!,
    gitMinor: minor!,
    gitTreeState: 'clean',
    ...(info.Time ? { buildDate: info.Time } : {}),
    ...(info.Origin?.Hash ? { gitCommit: info.Origin.Hash } : {}),
  };
  // Upstream stamps both packages; client-go's is what clients built into the binaries report.
  const x = Object.entries(vars).flatMap(([k, v]) => [`-X`, `k8s.io/component-base/version.${k}=${v}`, `-X`, `k8s.io/client-go/pkg/version.${k}=${v}`]);
  log(`building kube-apiserver, kube-controller-manager, kube-scheduler ${version} (${staging.length} staging modules at ${tag})`);
  await runGo(ge, src, [
    'build', '-trimpath', '-ldflags', ['-s', '-w', ...x].join(' '), '-o', outDir + '/',
    'k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kube-controller-manager', 'k8s.io/kubernetes/cmd/kube-scheduler',
  ]);
}

async function buildEtcd(ge: GoEnv, src: string, outDir: string, version: string, log: (l: string) => void): Promise<void> {
  // The server module's own replace lines point at sibling directories of etcd's repository; as a
  // dependency they are ignored and its requirements name the matching published versions.
  await writeWrapper(src, 'etcd', `go.etcd.io/etcd/server/v3 ${version}`);
  log(`building etcd ${version}`);
  await runGo(ge, src, ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(outDir, 'etcd'), 'go.etcd.io/etcd/server/v3']);
}

async function buildKwok(ge: GoEnv, src: string, outDir: string, version: string, log: (l: string) => void): Promise<void> {
  await writeWrapper(src, 'kwok', `sigs.k8s.io/kwok ${version}`);
  log(`building kwok ${version}`);
  const ldflags = ['-s', '-w', '-X', `sigs.k8s.io/kwok/pkg/consts.Version=${version.replace(/^v/, '')}`].join(' ');
  await runGo(ge, src, ['build', '-trimpath', '-ldflags', ldflags, '-o', join(outDir, 'kwok'), 'sigs.k8s.io/kwok/cmd/kwok']);
}

/** Each binary must report the version we asked for; a v0.0.0 here would break Helm's kubeVersion checks. */
async function checkReportedVersions(outDir: string, versions: RigVersions): Promise<Record<RigBinary, string>> {
  const expect: Record<RigBinary, string> = {
    etcd: versions.etcd.replace(/^v/, ''),
    'kube-apiserver': versions.kubernetes,
    'kube-controller-manager': versions.kubernetes,
    'kube-scheduler': versions.kubernetes,
    kwok: versions.kwok.replace(/^v/, ''),
  };
  const reported = {} as Record<RigBinary, string>;
  for (const bin of RIG_BINARIES) {
    const { stdout, stderr } = await execFileAsync(join(outDir, bin), ['--version']);
    const text = (stdout + stderr).trim();
    if (!text.includes(expect[bin])) throw new Error(`${bin} --version printed ${JSON.stringify(text)}, expected it to contain ${expect[bin]}`);
    reported[bin] = text.split('\n')[0]!.trim();
  }
  return reported;
}

if (import.meta.main) {
  const bins = await ensureRigBinaries({ log: (l) => console.error(l) });
  for (const [name, path] of Object.entries(bins.paths)) console.log(`${name} ${path}`);
}
