/**
 * Every mmoctl command, by id (oclif's "explicit" command strategy: no file scanning at start-up).
 * Topics use a space: `values:validate` is typed `mmoctl values validate`.
 */
import Preflight from './commands/preflight.ts';
import Template from './commands/template.ts';
import ValuesShow from './commands/values/show.ts';
import ValuesValidate from './commands/values/validate.ts';
import Version from './commands/version.ts';

export const COMMANDS = {
  preflight: Preflight,
  template: Template,
  'values:show': ValuesShow,
  'values:validate': ValuesValidate,
  version: Version,
};
