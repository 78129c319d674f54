/**
 * Runs mmoctl: oclif loads this package's manifest (package.json "oclif"), finds the command in
 * COMMANDS and runs it. bin/mmoctl.js calls `main()` after checking the Node.js version.
 */
import { execute } from '@oclif/core';
import { PACKAGE_ROOT } from './package.ts';

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  await execute({ args: argv, loadOptions: { root: PACKAGE_ROOT } });
}
