import { Flags } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { MmoctlCommand } from '../base-command.ts';
import { InvalidInputError } from '../errors.ts';
import { waitFlags, timeoutSeconds } from '../release/flags.ts';
import { uninstallRelease } from '../release/lifecycle.ts';
import { document } from '../ui/output.ts';
import { wantsColor } from '../ui/style.ts';

export default class Uninstall extends MmoctlCommand {
  static override summary = "Remove the release. Players' data (volumes) and the credentials it was created with are kept unless --purge.";
  static override description = 'Asks for confirmation on a terminal; elsewhere (CI) it needs --yes.';
  static override examples = ['<%= config.bin %> uninstall -n game', '<%= config.bin %> uninstall -n game --purge --yes'];
  static override flags = {
    ...waitFlags,
    purge: Flags.boolean({ default: false, summary: "Also delete the data services' volumes and the kept Secrets: every player's data is lost." }),
    yes: Flags.boolean({ char: 'y', default: false, summary: 'Do not ask for confirmation.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Uninstall);
    const what = `release ${this.ref.release} from namespace ${this.ref.namespace}${flags.purge ? ', with its volumes and Secrets (all player data)' : ''}`;
    if (!flags.yes) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) throw new InvalidInputError(`refusing to uninstall ${what} without confirmation.`, { hint: 'Add --yes to confirm.' });
      const { confirm, isCancel } = await import('@clack/prompts');
      const ok = await confirm({ message: `Uninstall ${what}?`, initialValue: false, output: process.stderr });
      if (isCancel(ok) || !ok) throw new InvalidInputError('not confirmed; nothing was changed.');
    }
    const r = await uninstallRelease(await this.helm(), () => this.kube(), this.ref, { purge: flags.purge, timeoutSeconds: timeoutSeconds(flags.timeout), progress: { color: wantsColor(process.stderr, this.global.color) } });
    this.finish({
      document: document('UninstallResult', r),
      exitCode: EXIT.ok,
      human: (s) =>
        [
          `${s.mark('pass')} ${r.release} uninstalled from namespace ${r.namespace}.`,
          r.purged
            ? `  deleted ${r.deleted.persistentVolumeClaims.length} volumes (${r.deleted.persistentVolumeClaims.join(', ') || 'none'}) and ${r.deleted.secrets.length} Secrets (${r.deleted.secrets.join(', ') || 'none'})`
            : `  kept volumes ${r.kept.persistentVolumeClaims.join(', ') || '(none)'} and Secrets ${r.kept.secrets.join(', ') || '(none)'}: a new install with the same release name finds them. --purge deletes them.`,
        ].join('\n'),
    });
  }
}
