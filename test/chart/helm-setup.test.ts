import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { HELM_PINS, TOOLS_DIR, ensureHelm, type HelmMajor } from '../../scripts/setup/helm.ts';

const run = promisify(execFile);
const majors = Object.keys(HELM_PINS).map(Number) as HelmMajor[];

describe('pinned helm binaries', () => {
  it.each(majors)('helm %i is inside the project and reports its pinned version', async (major) => {
    const path = inject('helmPaths')[major];
    expect(isAbsolute(path)).toBe(true);
    expect(path.startsWith(TOOLS_DIR)).toBe(true);
    const { stdout } = await run(path, ['version', '--short']);
    expect(stdout.trim().startsWith(HELM_PINS[major].version)).toBe(true);
  });

  it.each(majors)('helm %i matches its pinned sha256 and a second setup returns the same path', async (major) => {
    const path = inject('helmPaths')[major];
    const digest = createHash('sha256').update(await readFile(path)).digest('hex');
    expect(digest).toBe(HELM_PINS[major].sha256);
    await expect(ensureHelm(major)).resolves.toBe(path);
  });
});
