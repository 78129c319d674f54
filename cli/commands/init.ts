import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { EXIT } from '../../contract/exit-codes.ts';
import { MmoctlCommand } from '../base-command.ts';
import { InvalidInputError } from '../errors.ts';
import { renderInitFile } from '../init.ts';
import { PROFILES } from '../package.ts';
import { document } from '../ui/output.ts';

export default class Init extends MmoctlCommand {
  static override summary = 'Write a commented values file to start from: a preset plus the settings studios change most.';
  static override examples = ['<%= config.bin %> init --profile production', '<%= config.bin %> init --profile dev --file dev-values.yaml', '<%= config.bin %> init --profile staging --file -'];
  static override flags = {
    profile: Flags.option({ options: PROFILES, required: true, summary: 'The preset to start from: dev, staging or production.' })(),
    file: Flags.string({ summary: 'Where to write it ("-" for stdout).', default: 'mmo-values.yaml' }),
    force: Flags.boolean({ default: false, summary: 'Overwrite the file if it exists.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Init);
    const toStdout = flags.file === '-';
    const path = toStdout ? '-' : resolve(flags.file);
    if (!toStdout && existsSync(path) && !flags.force) throw new InvalidInputError(`${flags.file} exists; nothing was written.`, { hint: 'Add --force to overwrite it, or choose another --file.' });
    const out = await renderInitFile(flags.profile, toStdout ? 'mmo-values.yaml' : flags.file);
    if (toStdout) {
      process.stdout.write(out.text);
      return;
    }
    await writeFile(path, out.text);
    this.finish({
      document: document('InitResult', { file: path, profile: flags.profile, keys: out.keys }),
      exitCode: EXIT.ok,
      human: (s) => `${s.mark('pass')} wrote ${flags.file} (the ${flags.profile} preset and ${out.keys.length} settings, each described).\n  next: mmoctl values validate -f ${flags.file}\n        mmoctl install -f ${flags.file} -n <namespace> --create-namespace`,
    });
  }
}
