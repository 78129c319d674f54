import { Flags } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE, MmoctlCommand } from '../base-command.ts';
import { renderRun } from '../backup/render.ts';
import { restoreNow } from '../backup/run.ts';
import { InvalidInputError } from '../errors.ts';
import { releaseFlags } from '../release/render.ts';
import { timeoutSeconds } from '../release/flags.ts';
import { document } from '../ui/output.ts';

export default class Restore extends MmoctlCommand {
  static override summary = "Load a dump from the backup volume back into the release's PostgreSQL (needs backup.pgDump.enabled).";
  static override description =
    'Starts a Job from the backup CronJob that runs pg_restore: every table of the dump is dropped and recreated in one transaction, so a failed restore changes nothing ' +
    'and a successful one loses every row written after the dump. Game servers keep running: stop them first for a quiet database (docs/backups.md). ' +
    'Asks for confirmation on a terminal; elsewhere (CI) it needs --yes.';
  static override examples = ['<%= config.bin %> restore --from game-mmo-20261204T040000Z.dump -n game --yes', '<%= config.bin %> restore --from latest -n game --yes -o json'];
  static override flags = {
    from: Flags.string({ required: true, summary: 'The dump to load: a file name on the backup volume (as `mmoctl backup now` prints it), or latest.' }),
    yes: Flags.boolean({ char: 'y', default: false, summary: 'Do not ask for confirmation.' }),
    wait: Flags.boolean({ default: true, allowNo: true, summary: 'Wait until the restore ends (--no-wait: return once the Job is created).' }),
    timeout: Flags.string({ summary: 'How long to wait for the restore, e.g. 10m, 1h.', default: '30m' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Restore);
    const what = `the database of release ${this.ref.release} in namespace ${this.ref.namespace} with ${flags.from} (rows written since that dump are lost)`;
    if (!flags.yes) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) throw new InvalidInputError(`refusing to replace ${what} without confirmation.`, { hint: 'Add --yes to confirm.' });
      const { confirm, isCancel } = await import('@clack/prompts');
      const ok = await confirm({ message: `Replace ${what}?`, initialValue: false, output: process.stderr });
      if (isCancel(ok) || !ok) throw new InvalidInputError('not confirmed; nothing was changed.');
    }
    const r = await restoreNow(await this.kube(), this.ref, flags.from, { waitSeconds: flags.wait ? timeoutSeconds(flags.timeout) : undefined });
    const f = releaseFlags(r.release, r.namespace, { release: DEFAULT_RELEASE, namespace: DEFAULT_NAMESPACE });
    this.finish({ document: document('RestoreResult', r), exitCode: r.state === 'failed' ? EXIT.failed : EXIT.ok, human: (s) => renderRun('restore', r, s, f) });
  }
}
