import { Flags } from '@oclif/core';
import { EXIT } from '../../../contract/exit-codes.ts';
import { DEFAULT_NAMESPACE, DEFAULT_RELEASE, MmoctlCommand } from '../../base-command.ts';
import { renderRun } from '../../backup/render.ts';
import { backupNow } from '../../backup/run.ts';
import { releaseFlags } from '../../release/render.ts';
import { timeoutSeconds } from '../../release/flags.ts';
import { document } from '../../ui/output.ts';

export default class BackupNow extends MmoctlCommand {
  static override summary = "Dump the release's PostgreSQL now, with the scheduled backup's Job (needs backup.pgDump.enabled).";
  static override description =
    'Starts a Job from the backup CronJob, as `kubectl create job --from=cronjob/…` would: the same image, credentials, volume and retention. ' +
    'Waits for it to finish unless --no-wait; exit 0 when the dump is written, 3 when it failed (its log is printed). docs/backups.md lists what a dump holds and its limits.';
  static override examples = ['<%= config.bin %> backup now -n game', '<%= config.bin %> backup now -n game --no-wait -o json'];
  static override flags = {
    wait: Flags.boolean({ default: true, allowNo: true, summary: 'Wait until the dump is written (--no-wait: return once the Job is created).' }),
    timeout: Flags.string({ summary: 'How long to wait for the dump, e.g. 10m, 1h.', default: '30m' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(BackupNow);
    const r = await backupNow(await this.kube(), this.ref, { waitSeconds: flags.wait ? timeoutSeconds(flags.timeout) : undefined });
    const f = releaseFlags(r.release, r.namespace, { release: DEFAULT_RELEASE, namespace: DEFAULT_NAMESPACE });
    this.finish({ document: document('BackupResult', r), exitCode: r.state === 'failed' ? EXIT.failed : EXIT.ok, human: (s) => renderRun('backup', r, s, f) });
  }
}
