/**
 * Runs the compiled mmoctl (bin/mmoctl.js → dist/cli) as a user would, for the suites that prove the
 * CLI against real helm and the rig. `buildCli()` compiles it first (suites own their setup).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { withLock } from '../../scripts/lib/lock.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';

export const MMOCTL = join(PROJECT_ROOT, 'bin', 'mmoctl.js');

/** Compiles cli/ into dist/ (tsc -p tsconfig.build.json), one build at a time across suites. */
export async function buildCli(): Promise<void> {
  await withLock(join(PROJECT_ROOT, '.tmp', 'build-cli.lock'), { purpose: 'compiling the CLI' }, async () => {
    const tsc = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc');
    await new Promise<void>((resolve, reject) => {
      execFile(tsc, ['-p', join(PROJECT_ROOT, 'tsconfig.build.json')], { cwd: PROJECT_ROOT }, (err, stdout, stderr) =>
        err ? reject(new Error(`the CLI does not compile:\n${stdout}${stderr}`)) : resolve(),
      );
    });
  });
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliOptions {
  readonly kubeconfig?: string;
  /** helm binary (MMOCTL_HELM). */
  readonly helm?: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** The program to run instead of this checkout's bin/mmoctl.js (an installed package's). */
  readonly bin?: string;
}

/** Runs mmoctl; never rejects on a non-zero exit. helm keeps its state under .tmp/helm-home. */
export function mmoctl(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const home = join(PROJECT_ROOT, '.tmp', 'helm-home');
  mkdirSync(home, { recursive: true });
  const env: Record<string, string | undefined> = {
    ...process.env,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    NO_COLOR: '1',
    FORCE_COLOR: undefined,
    ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}),
    ...(opts.helm ? { MMOCTL_HELM: opts.helm } : {}),
    ...opts.env,
  };
  const [file, argv] = opts.bin ? [opts.bin, [...args]] : [process.execPath, [MMOCTL, ...args]];
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(file, argv, { env, cwd: opts.cwd ?? PROJECT_ROOT, timeout: opts.timeoutMs ?? 240_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/**
 * stdout parsed as JSON and checked against the documented schema of its kind
 * (cli/schemas/mmoctl.schema.json), with the whole run in the error when it is not.
 */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  let doc: unknown;
  try {
    doc = JSON.parse(run.stdout);
  } catch {
    throw new Error(`mmoctl did not print JSON (exit ${run.code}):\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
  assertDocument(doc);
  return doc as T;
}

const schema = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cli', 'schemas', 'mmoctl.schema.json'), 'utf8')) as { definitions: Record<string, unknown> };
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(schema, 'mmoctl');
/** Definitions that describe more than one kind. */
const DEFINITION_OF: Record<string, string> = { InstallResult: 'ApplyResult', UpgradeResult: 'ApplyResult' };

/** The schema definition a document kind is checked against; throws for an undocumented kind. */
export function definitionOf(kind: string): string {
  const name = DEFINITION_OF[kind] ?? kind;
  if (!schema.definitions[name]) throw new Error(`kind ${kind} has no definition in cli/schemas/mmoctl.schema.json`);
  return name;
}

/** Throws, listing every violation, unless `doc` matches the schema of its kind. */
export function assertDocument(doc: unknown): void {
  const kind = (doc as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string') throw new Error(`not an mmoctl document (no kind): ${JSON.stringify(doc).slice(0, 200)}`);
  const validate = ajv.getSchema(`mmoctl#/definitions/${definitionOf(kind)}`)!;
  if (!validate(doc)) throw new Error(`${kind} does not match its schema:\n${ajv.errorsText(validate.errors, { separator: '\n' })}`);
}
