/**
 * Every mmoctl command, by id (oclif's "explicit" command strategy: no file scanning at start-up).
 * Topics use a space: `values:validate` is typed `mmoctl values validate`.
 */
import BackupNow from './commands/backup/now.ts';
import GitopsExport from './commands/gitops/export.ts';
import History from './commands/history.ts';
import Init from './commands/init.ts';
import Install from './commands/install.ts';
import Preflight from './commands/preflight.ts';
import Restore from './commands/restore.ts';
import Rollback from './commands/rollback.ts';
import Status from './commands/status.ts';
import SupportBundle from './commands/support-bundle.ts';
import Template from './commands/template.ts';
import Uninstall from './commands/uninstall.ts';
import Upgrade from './commands/upgrade.ts';
import ValuesShow from './commands/values/show.ts';
import ValuesValidate from './commands/values/validate.ts';
import Version from './commands/version.ts';

export const COMMANDS = {
  'backup:now': BackupNow,
  'gitops:export': GitopsExport,
  history: History,
  init: Init,
  install: Install,
  preflight: Preflight,
  restore: Restore,
  rollback: Rollback,
  status: Status,
  'support-bundle': SupportBundle,
  template: Template,
  uninstall: Uninstall,
  'values:show': ValuesShow,
  'values:validate': ValuesValidate,
  upgrade: Upgrade,
  version: Version,
};
