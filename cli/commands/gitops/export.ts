import { Flags } from '@oclif/core';
import { relative } from 'node:path';
import { EXIT } from '../../../contract/exit-codes.ts';
import { MmoctlCommand } from '../../base-command.ts';
import { exportGitops } from '../../gitops/export.ts';
import { document } from '../../ui/output.ts';
import { resolveChart } from '../../values/chart.ts';
import { valueFlags, valueInputs } from '../../values/flags.ts';

export default class GitopsExport extends MmoctlCommand {
  static override summary = 'Write an Argo CD Application and the chart and values it syncs: the release `mmoctl install` would make, run by GitOps.';
  static override description =
    'Takes the same value flags as install and validates them the same way, plus gameServer.autoscaling.setReplicas=false (helm template renders cannot read the live replica count); ' +
    'credentials must then come from existing Secrets, and the chart names each one missing. Writes <out>/<path>/ (the chart and values-<release>.yaml) to commit, and <out>/<app>.application.yaml to apply once. ' +
    'Nothing is sent to a cluster.';
  static override examples = [
    '<%= config.bin %> gitops export --profile production -f studio.yaml --repo-url https://github.com/studio/deploy.git --path clusters/eu/mmo -n game',
    '<%= config.bin %> gitops export --profile staging --repo-url git@github.com:studio/deploy.git --path mmo --auto-sync --create-namespace -o json',
  ];
  static override flags = {
    ...valueFlags,
    'repo-url': Flags.string({ required: true, summary: 'The Git repository Argo CD reads (as Argo CD clones it).' }),
    path: Flags.string({ required: true, summary: 'Folder of the repository that holds the chart and the values file.' }),
    revision: Flags.string({ default: 'HEAD', summary: 'Branch, tag or commit Argo CD follows.' }),
    'app-name': Flags.string({ summary: 'Name of the Application (default: the release name).' }),
    'argocd-namespace': Flags.string({ default: 'argocd', summary: 'Namespace Argo CD runs in; the Application is created there.' }),
    project: Flags.string({ default: 'default', summary: 'Argo CD project of the Application.' }),
    'dest-server': Flags.string({ default: 'https://kubernetes.default.svc', summary: "The release's cluster as Argo CD names it (default: the cluster Argo CD runs on)." }),
    'create-namespace': Flags.boolean({ default: false, summary: 'Let Argo CD create the namespace, with Pod Security labels that match the values.' }),
    'auto-sync': Flags.boolean({ default: false, summary: 'Sync every change of the repository automatically (prune and self-heal).' }),
    out: Flags.string({ default: '.', summary: 'Local checkout of the repository to write into.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GitopsExport);
    const helm = await this.helm();
    const chart = await resolveChart(flags.chart, flags['chart-version'], helm);
    try {
      const r = await exportGitops(helm, {
        ref: this.ref,
        chart,
        inputs: valueInputs(flags),
        repoUrl: flags['repo-url'],
        path: flags.path,
        revision: flags.revision,
        appName: flags['app-name'] ?? this.ref.release,
        argoNamespace: flags['argocd-namespace'],
        project: flags.project,
        destinationServer: flags['dest-server'],
        createNamespace: flags['create-namespace'],
        autoSync: flags['auto-sync'],
        outDir: flags.out,
      });
      const rel = (p: string) => relative(process.cwd(), p) || '.';
      this.finish({
        document: document('GitopsExport', r),
        exitCode: EXIT.ok,
        human: (s) =>
          [
            `${s.mark('pass')} wrote the release ${r.release} (namespace ${r.namespace}) for Argo CD:`,
            `  ${rel(r.chartDir)}/             the chart, with ${rel(r.valuesFile)}`,
            `  ${rel(r.application.file)}   Application ${r.application.namespace}/${r.application.name}`,
            '',
            s.bold('Next'),
            `  1. commit ${rel(r.chartDir)} and push it to ${r.repoUrl} (${r.revision})`,
            `  2. kubectl apply -f ${rel(r.application.file)}   ${s.dim('(once, on the cluster Argo CD runs on)')}`,
          ].join('\n'),
      });
    } finally {
      await chart.dispose();
    }
  }
}
