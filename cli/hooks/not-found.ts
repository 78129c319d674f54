/**
 * oclif's command_not_found hook: an unknown command is invalid input (exit 2), with the command the
 * user most likely meant.
 */
import type { Hook } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { closest } from '../values/schema.ts';

const hook: Hook.CommandNotFound = async function (opts) {
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '));
  const typed = opts.id.replace(/:/g, ' ');
  const near = closest(typed, ids);
  process.stderr.write(`Error: "${typed}" is not an mmoctl command.${near ? ` Did you mean "${near}"?` : ''}\nHint: \`${opts.config.bin} help\` lists the commands.\n`);
  process.exit(EXIT.invalidInput);
};

export default hook;
