import { EXIT } from '../../contract/exit-codes.ts';
import { MmoctlCommand } from '../base-command.ts';
import { FailedError } from '../errors.ts';
import { gameServerVersion } from '../release/changes.ts';
import { renderHistory } from '../release/render.ts';
import { document } from '../ui/output.ts';

export default class History extends MmoctlCommand {
  static override summary = 'List the revisions of the release: when, what state, which chart and game server version, and why.';
  static override examples = ['<%= config.bin %> history -n game', '<%= config.bin %> history -o json'];

  async run(): Promise<void> {
    await this.parse(History);
    const helm = await this.helm();
    const listed = await helm.history(this.ref);
    // helm records the chart's appVersion; the version each revision really ran is in its manifest.
    const revisions = await Promise.all(listed.map(async (r) => ({ ...r, gameServer: gameServerVersion(await helm.manifest(this.ref, r.revision).catch(() => '')) })));
    if (!revisions.length) throw new FailedError(`there is no release ${this.ref.release} in namespace ${this.ref.namespace}.`, { hint: 'Name it with -n and --release.' });
    this.finish({ document: document('History', { release: this.ref.release, namespace: this.ref.namespace, revisions }), exitCode: EXIT.ok, human: (s) => renderHistory(revisions, s) });
  }
}
