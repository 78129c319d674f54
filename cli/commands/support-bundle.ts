import { Flags } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { MmoctlCommand } from '../base-command.ts';
import { bundlePath, supportBundleDocument, writeBundle } from '../bundle/archive.ts';
import { collectBundle, preflightWithValues } from '../bundle/collect.ts';
import { renderBundle } from '../bundle/render.ts';

export default class SupportBundle extends MmoctlCommand {
  static override summary = 'Collect what an admin needs to look into a problem in one .tar.gz, every secret value redacted.';
  static override description =
    'Status and preflight reports, helm history and values, the release\'s objects and events as YAML, container logs where the cluster serves them, and bundle.json listing every part and every part that could not be collected with the reason. ' +
    'Every value of the namespace\'s Secrets is replaced by a marker in every file; Secrets appear only as names and key names. Changes nothing in the cluster.';
  static override examples = ['<%= config.bin %> support-bundle -n game', '<%= config.bin %> support-bundle --out /tmp/ticket-4711.tar.gz -o json'];
  static override flags = {
    out: Flags.string({ summary: 'Archive to write, or a directory to write it in (default: mmoctl-support-<release>-<time>.tar.gz here).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SupportBundle);
    const helm = () => this.helm();
    const kube = () => this.kube();
    this.note(`collecting a support bundle of release ${this.ref.release} in ${this.ref.namespace}…`);
    const contents = await collectBundle(this.ref, { helm, kube, preflight: (values) => preflightWithValues(this.ref, values, helm, kube) });
    const bundle = await writeBundle(bundlePath(flags.out, this.ref.release, contents.createdAt), this.ref, contents);
    this.finish({ document: supportBundleDocument(bundle), exitCode: EXIT.ok, human: (s) => renderBundle(bundle, s) });
  }
}
