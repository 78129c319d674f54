/**
 * `mmoctl status --context a --context b`: one release read in several clusters (one per region),
 * judged each on its own and shown side by side. A cluster that cannot be read (unreachable API
 * server, no such context, no release) is a column that says why; the others are still reported.
 * The overall verdict is the worst one, and a cluster that could not be read counts as down.
 */
import type { ExitCode } from '../../contract/exit-codes.ts';
import { EXIT } from '../../contract/exit-codes.ts';
import { document, type Document } from '../ui/output.ts';
import type { Style } from '../ui/style.ts';
import { table } from '../ui/table.ts';
import type { Health, StatusReport } from './model.ts';
import { statusDocument } from './model.ts';

/** One cluster's answer: its report, or why there is none. */
export type ClusterStatus =
  | { readonly context: string; readonly report: StatusReport }
  | { readonly context: string; readonly error: { readonly exitCode: ExitCode; readonly message: string; readonly hint?: string } };

const RANK: Record<Health, number> = { healthy: 0, degraded: 1, down: 2 };

/** The verdict of one cluster; one that could not be read is down. */
export function clusterVerdict(c: ClusterStatus): Health {
  return 'report' in c ? c.report.verdict : 'down';
}

/** The worst verdict over every cluster. */
export function overallVerdict(clusters: readonly ClusterStatus[]): Health {
  return clusters.map(clusterVerdict).reduce<Health>((worst, v) => (RANK[v] > RANK[worst] ? v : worst), 'healthy');
}

/** 0 when every cluster is healthy, else 3 (as for one cluster). */
export function clustersExitCode(clusters: readonly ClusterStatus[]): ExitCode {
  return overallVerdict(clusters) === 'healthy' ? EXIT.ok : EXIT.failed;
}

/** The `MultiClusterStatus` document: the overall verdict and each cluster's StatusReport or error. */
export function clustersDocument(clusters: readonly ClusterStatus[]): Document {
  return document('MultiClusterStatus', {
    verdict: overallVerdict(clusters),
    clusters: clusters.map((c) =>
      'report' in c ? { context: c.context, verdict: c.report.verdict, report: statusDocument(c.report) } : { context: c.context, verdict: 'down' as const, error: c.error },
    ),
  });
}

const MARK: Record<Health, 'pass' | 'warn' | 'fail'> = { healthy: 'pass', degraded: 'warn', down: 'fail' };

/** The side-by-side screen: one column per cluster, then each cluster's reasons. */
export function renderClusters(clusters: readonly ClusterStatus[], ref: { release: string; namespace: string }, s: Style): string {
  const verdict = overallVerdict(clusters);
  const paint = (h: Health) => (h === 'healthy' ? s.ok : h === 'degraded' ? s.warn : s.fail)(h);
  const head = `Release ${s.bold(ref.release)} in ${s.bold(ref.namespace)} across ${clusters.length} clusters: ${s.mark(MARK[verdict])} ${s.bold(paint(verdict))}`;

  const rows: [string, (r: StatusReport) => string][] = [
    ['revision', (r) => (r.release ? `${r.release.revision} ${r.release.status}` : s.warn('unknown'))],
    ['game server', (r) => r.release?.appVersion ?? s.warn('unknown')],
    ['game servers', (r) => readyOf(r, s)],
    ['players', (r) => (r.gameServers.players.total === null ? s.dim('unknown') : r.gameServers.players.total.toLocaleString('en-US'))],
    ['move→ack p95', (r) => ms(stable(r)?.ackP95Ms ?? null, s)],
    ['tick p99', (r) => ms(stable(r)?.tickP99Ms ?? null, s)],
    ['canary', (r) => (r.canary.present ? `${r.canary.version ?? '?'} ${r.canary.ready}/${r.canary.desired}` : s.dim('none'))],
    ['data services', (r) => dataServices(r, s)],
    ['autoscaler', (r) => (r.autoscaler && !r.autoscaler.missing ? `${r.autoscaler.current} (min ${r.autoscaler.min}, max ${r.autoscaler.max})` : s.dim('none'))],
  ];
  const body = [
    ['verdict', ...clusters.map((c) => `${s.mark(MARK[clusterVerdict(c)])} ${'report' in c ? paint(c.report.verdict) : s.fail('unreadable')}`)],
    ...rows.map(([label, cell]) => [label, ...clusters.map((c) => ('report' in c ? cell(c.report) : s.dim('-')))]),
  ];
  const grid = table(['', ...clusters.map((c) => s.bold(c.context))], body)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

  const why: string[] = [];
  for (const c of clusters) {
    if (!('report' in c)) {
      why.push(`  ${s.mark('fail')} ${s.bold(c.context)}: ${c.error.message}`);
      if (c.error.hint) why.push(`      ${s.dim('fix:')} ${c.error.hint}`);
      continue;
    }
    for (const f of c.report.reasons) {
      why.push(`  ${s.mark(f.level === 'down' ? 'fail' : 'warn')} ${s.bold(c.context)} ${s.dim(`${f.component}:`)} ${f.message}`);
      if (f.fix) why.push(`      ${s.dim('fix:')} ${f.fix}`);
    }
  }
  const blocks = [head, grid];
  if (why.length) blocks.push(`${s.bold('Why')}\n${why.join('\n')}`);
  const detail = clusters.find((c) => clusterVerdict(c) !== 'healthy') ?? clusters[0];
  if (detail) blocks.push(s.dim(`One cluster in full: mmoctl status --context ${detail.context} -n ${ref.namespace} --release ${ref.release}`));
  return `${blocks.join('\n\n')}\n`;
}

function stable(r: StatusReport) {
  return r.gameServers.tracks.find((t) => t.track === 'stable');
}

function readyOf(r: StatusReport, s: Style): string {
  const t = stable(r);
  if (!t) return s.fail('none');
  const text = `${t.ready}/${t.pods} ready`;
  return t.ready >= t.pods && t.pods > 0 ? s.ok(text) : t.ready === 0 ? s.fail(text) : s.warn(text);
}

function ms(x: number | null, s: Style): string {
  return x === null ? s.dim('unknown') : `${Math.round(x)} ms`;
}

function dataServices(r: StatusReport, s: Style): string {
  const bundled = r.dataServices.filter((d) => d.mode !== 'external' && d.mode !== 'unknown');
  const external = r.dataServices.length - bundled.length - r.dataServices.filter((d) => d.mode === 'unknown').length;
  const short = r.dataServices.filter((d) => d.mode === 'unknown' || (d.mode !== 'external' && d.ready < d.desired));
  const ext = external ? `${external} external` : '';
  if (short.length) return [...short.map((d) => s.warn(d.mode === 'unknown' ? `${d.name} ?` : `${d.name} ${d.ready}/${d.desired}`)), ext].filter(Boolean).join(', ');
  return [bundled.length ? s.ok(`${bundled.length}/${bundled.length} ready`) : '', ext].filter(Boolean).join(', ') || s.dim('none');
}
