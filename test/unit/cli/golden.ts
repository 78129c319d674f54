// Golden files for human output: `golden('status-healthy', text)` compares with
// test/unit/cli/golden/status-healthy.txt; `UPDATE_GOLDEN=1 npx vitest run --project unit` rewrites
// them (review the diff before committing).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

const GOLDEN = join(import.meta.dirname, 'golden');

/** Compares with golden/<name>.txt; UPDATE_GOLDEN=1 rewrites it. */
export function golden(name: string, text: string): void {
  const file = join(GOLDEN, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`no golden file ${file}; run with UPDATE_GOLDEN=1 to write it`);
    writeFileSync(file, text);
  }
  expect(text, `${name}: differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(file, 'utf8'));
}
