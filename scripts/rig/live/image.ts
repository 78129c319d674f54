/**
 * The checkout stands in for the game server image: what `server/Dockerfile`'s final stage declares
 * (ENV, ENTRYPOINT, CMD) is read from the Dockerfile itself, so a process pod starts the way the
 * image would. The image's `node` is the Node 24 in node_modules/.bin (first on PATH).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageConfig {
  readonly env: Record<string, string>;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
}

/** PATH of the node:24 images, after the checkout's own binaries. */
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** ENV, ENTRYPOINT and CMD of the last stage of a Dockerfile text (exec-form JSON arrays, ENV k=v pairs). Pure. */
export function parseDockerfile(text: string): ImageConfig {
  const instructions = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const lastFrom = instructions.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const env: Record<string, string> = {};
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const line of instructions.slice(lastFrom + 1)) {
    const [, op = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (/^ENV$/i.test(op)) {
      for (const m of rest.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) env[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    } else if (/^ENTRYPOINT$/i.test(op)) entrypoint = JSON.parse(rest) as string[];
    else if (/^CMD$/i.test(op)) cmd = JSON.parse(rest) as string[];
  }
  return { env, entrypoint, cmd };
}

/** The image configuration of the checkout at `root`, PATH put first to its node_modules/.bin. */
export function checkoutImage(root: string): ImageConfig {
  const image = parseDockerfile(readFileSync(join(root, 'server', 'Dockerfile'), 'utf8'));
  return { ...image, env: { PATH: `${join(root, 'node_modules', '.bin')}:${BASE_PATH}`, ...image.env } };
}

/**
 * What a container runs, as Kubernetes decides it: `command` replaces the image's ENTRYPOINT (and
 * drops its CMD), `args` replaces CMD. Pure.
 */
export function containerArgv(image: ImageConfig, command: readonly string[] | undefined, args: readonly string[] | undefined): string[] {
  if (command?.length) return [...command, ...(args ?? [])];
  return [...image.entrypoint, ...(args?.length ? args : image.cmd)];
}
