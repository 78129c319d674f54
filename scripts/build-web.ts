/**
 * Bundles the demo page (server/web/) into server/web/dist/, which the game server serves at `/`.
 * Run by `npm run build` (and so before `npm start` and `npm test`); takes well under a second.
 * `--watch` rebuilds on change while developing.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { PROJECT_ROOT } from './lib/root.ts';

const web = join(PROJECT_ROOT, 'server', 'web');
const dist = join(web, 'dist');

/** Builds the page; resolves with the output directory. Throws with esbuild's messages on error. */
export async function buildWeb(options: { watch?: boolean } = {}): Promise<string> {
  const started = performance.now();
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  await copyFile(join(web, 'index.html'), join(dist, 'index.html'));
  await copyFile(join(web, 'style.css'), join(dist, 'style.css'));
  const config: esbuild.BuildOptions = {
    entryPoints: [join(web, 'src', 'main.ts')],
    outfile: join(dist, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: !options.watch,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  };
  if (options.watch) {
    const ctx = await esbuild.context(config);
    await ctx.watch();
    process.stdout.write(`build-web: watching ${web}\n`);
  } else {
    await esbuild.build(config);
    process.stdout.write(`build-web: ${dist} in ${Math.round(performance.now() - started)} ms\n`);
  }
  return dist;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const watch = process.argv.includes('--watch');
  buildWeb({ watch }).catch((err: unknown) => {
    process.stderr.write(`build-web: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
