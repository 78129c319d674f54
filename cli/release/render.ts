/** Human summaries of install, upgrade, rollback, history and uninstall. */
import type { HelmRevision } from '../helm/helm.ts';
import type { Style } from '../ui/style.ts';
import { table } from '../ui/table.ts';
import type { ApplyResult } from './apply.ts';

/** The global flags that name this release in a follow-up command (empty for the defaults). */
export function releaseFlags(release: string, namespace: string, defaults: { release: string; namespace: string }): string {
  return [namespace !== defaults.namespace ? `-n ${namespace}` : '', release !== defaults.release ? `--release ${release}` : ''].filter(Boolean).join(' ');
}

export function renderApply(r: ApplyResult, s: Style, flags: string): string {
  const f = flags ? ` ${flags}` : '';
  const lines: string[] = [];
  const what = `${r.release} in namespace ${r.namespace}`;
  const versions = [r.chart ? `chart ${r.chart}` : '', r.appVersion ? `game server ${r.appVersion}` : ''].filter(Boolean).join(', ');
  if (r.action === 'unchanged') lines.push(`${s.mark('pass')} ${what} is unchanged: revision ${r.revision} already runs this chart and these values (${versions}).`);
  else if (r.action === 'dry-run') lines.push(`${s.bold('Dry run')}: nothing was changed. ${what} would run ${versions}.`);
  else lines.push(`${s.mark('pass')} ${what} ${r.action}: revision ${r.revision}${r.previousRevision ? ` (was ${r.previousRevision})` : ''}, ${versions}.`);
  if (r.repaired) lines.push(`  ${s.dim('repaired first:')} ${r.repaired}`);
  for (const w of r.preflight?.warnings ?? []) lines.push(`  ${s.mark('warn')} ${w}`);

  if (r.plan && r.action === 'dry-run') {
    lines.push('', s.bold('Would apply'));
    for (const [label, list] of [['create', r.plan.create], ['change', r.plan.update], ['delete', r.plan.remove]] as const) {
      for (const name of list) lines.push(`  ${label.padEnd(7)} ${name}`);
    }
    if (r.plan.unchanged.length) lines.push(`  ${s.dim(`${r.plan.unchanged.length} objects unchanged`)}`);
    if (r.namespaceState?.willCreate) lines.push(`  create  Namespace/${r.namespace} (Pod Security "${r.namespaceState.podSecurity}")`);
  }
  const c = r.changes;
  if (c && r.action !== 'unchanged' && (c.images.length || c.replicas.length || c.values.length || c.added.length || c.removed.length)) {
    lines.push('', s.bold(r.action === 'dry-run' ? 'Would change' : 'Changed'));
    // One line per workload and change, naming every container that changed the same way.
    const images = new Map<string, string[]>();
    for (const i of c.images) {
      const line = `${i.workload}%s: ${i.from ?? '(new)'} → ${i.to ?? '(removed)'}`;
      images.set(line, [...(images.get(line) ?? []), i.container]);
    }
    for (const [line, containers] of images) lines.push(`  image     ${line.replace('%s', ` (${containers.join(', ')})`)}`);
    for (const x of c.replicas) lines.push(`  replicas  ${x.workload}: ${x.from ?? '-'} → ${x.to ?? '(autoscaled)'}`);
    if (c.values.length) lines.push(`  values    ${c.values.slice(0, 12).join(', ')}${c.values.length > 12 ? ` and ${c.values.length - 12} more` : ''}`);
    if (c.added.length) lines.push(`  added     ${c.added.join(', ')}`);
    if (c.removed.length) lines.push(`  removed   ${c.removed.join(', ')}`);
  }
  const moved = r.rollout?.replaced ?? [];
  if (moved.length) {
    lines.push('', s.bold('Game servers replaced'));
    for (const d of moved) lines.push(`  ${d.pod}: ${d.players === null ? 'players unknown (no game metrics)' : `${d.players} players moved`}, drained in ${d.drainSeconds === null ? 'more than the watch lasted' : `${d.drainSeconds} s`}`);
  }
  for (const w of r.warnings ?? []) lines.push(`  ${s.mark('warn')} ${w}`);
  const e = r.endpoints;
  if (e) {
    lines.push('', s.bold('Players connect'));
    lines.push(`  TCP  ${e.tcp.length ? e.tcp.join('  ') : s.warn('no address yet')}`);
    if (e.tcpNote) lines.push(`       ${s.dim(e.tcpNote)}`);
    if (e.udp.addresses.length) lines.push(`  UDP  ${e.udp.addresses.map((a) => `${a.address}:${e.udp.port}`).join('  ')}`);
    lines.push(`  ${e.udp.addresses.length ? '     ' : 'UDP  '}${s.dim(e.udp.note)}`);
  }
  if (r.action !== 'dry-run') {
    const next: [string, string][] = [
      [`mmoctl status${f}`, 'are players fine?'],
      [`mmoctl upgrade --version <new version>${f}`, 'ship a new game server version'],
      [`mmoctl history${f}`, `revisions; \`mmoctl rollback${f}\` returns to one`],
    ];
    const width = Math.max(...next.map(([c]) => c.length));
    lines.push('', s.bold('Next'), ...next.map(([c, why]) => `  ${c.padEnd(width)}  ${s.dim(why)}`));
  } else lines.push('', `Apply it: the same command without --dry-run.`);
  return lines.join('\n');
}

export function renderHistory(revisions: readonly HelmRevision[], s: Style): string {
  if (!revisions.length) return 'No revisions.';
  const rows = revisions.map((r) => [String(r.revision), r.updated.replace(/\.\d+/, '').replace(/ \+0000 UTC$/, ' UTC'), r.status === 'deployed' ? s.ok(r.status) : r.status === 'failed' || r.status.startsWith('pending') ? s.fail(r.status) : r.status, r.chart, r.gameServer ?? r.appVersion, r.description]);
  return table(['REVISION', 'UPDATED', 'STATUS', 'CHART', 'GAME SERVER', 'DESCRIPTION'], rows);
}
