import { Args } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { MmoctlCommand } from '../base-command.ts';
import { waitFlags, timeoutSeconds } from '../release/flags.ts';
import { rollbackRelease } from '../release/lifecycle.ts';
import { document } from '../ui/output.ts';
import { wantsColor } from '../ui/style.ts';

export default class Rollback extends MmoctlCommand {
  static override summary = 'Return the release to an earlier revision (default: the last good one before the current).';
  static override examples = ['<%= config.bin %> rollback -n game', '<%= config.bin %> rollback 3 -n game'];
  static override args = { revision: Args.integer({ description: 'Revision to return to (see `mmoctl history`).', min: 1 }) };
  static override flags = { ...waitFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rollback);
    const r = await rollbackRelease(await this.helm(), () => this.kube(), this.ref, args.revision, { timeoutSeconds: timeoutSeconds(flags.timeout), progress: { color: wantsColor(process.stderr, this.global.color) } });
    this.finish({
      document: document('RollbackResult', r),
      exitCode: EXIT.ok,
      human: (s) => `${s.mark('pass')} ${r.release} in namespace ${r.namespace} rolled back from revision ${r.from} to revision ${r.to}'s configuration (now revision ${r.revision}${r.appVersion ? `, game server ${r.appVersion}` : ''}).`,
    });
  }
}
