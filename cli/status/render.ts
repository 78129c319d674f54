/**
 * The human screen of `mmoctl status`: the verdict and its reasons first (what an on-call needs at a
 * glance), then one block per part of the release. Ages count from the report's `observedAt`, so a
 * report always renders the same way (golden files pin it). Also the one-line summary `--wait`
 * prints per change when stdout is not a terminal.
 */
import { age, formatTime } from '../ui/age.ts';
import type { Style } from '../ui/style.ts';
import { table } from '../ui/table.ts';
import type { Finding, Health, ServiceStatus, StatusReport } from './model.ts';
import { money } from './verdict.ts';

/** A table under a section title, its header dimmed. */
function section(head: readonly string[], rows: readonly (readonly string[])[], s: Style): string {
  return table(head.map((h) => s.dim(h)), rows)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

const HEALTH_MARK: Record<Health, 'pass' | 'warn' | 'fail'> = { healthy: 'pass', degraded: 'warn', down: 'fail' };

export function renderStatus(r: StatusReport, s: Style): string {
  const blocks = [header(r, s), findings(r, s), workloads(r, s), gameServers(r, s), playersPath(r, s), scaling(r, s), services(r, s), volumes(r, s), dataServices(r, s), canary(r, s), events(r, s)];
  return `${blocks.filter(Boolean).join('\n\n')}\n`;
}

function paint(h: Health, s: Style): (t: string) => string {
  return h === 'healthy' ? s.ok : h === 'degraded' ? s.warn : s.fail;
}

function header(r: StatusReport, s: Style): string {
  const verdict = `${s.mark(HEALTH_MARK[r.verdict])} ${s.bold(paint(r.verdict, s)(r.verdict))}`;
  const lines = [`Release ${s.bold(r.name)} in ${s.bold(r.namespace)}: ${verdict}`];
  const rel = r.release;
  if (rel) {
    const status = rel.status === 'deployed' ? s.ok(rel.status) : rel.status === 'failed' ? s.fail(rel.status) : s.warn(rel.status);
    lines.push(`  chart ${rel.chart} · game server ${rel.appVersion} · revision ${rel.revision} ${status} ${formatTime(rel.updated)} (${age(rel.updated, r.observedAt)} ago)`);
  } else {
    lines.push(`  ${s.dim("helm's record of the release could not be read (see the warnings)")}`);
  }
  lines.push(`  ${s.dim(`observed ${formatTime(r.observedAt)}`)}`);
  return lines.join('\n');
}

function finding(f: Finding, s: Style): string[] {
  const mark = f.level === 'down' ? s.mark('fail') : f.level === 'degraded' ? s.mark('warn') : s.dim('!');
  const out = [`  ${mark} ${s.dim(`${f.component}:`)} ${f.message}`];
  if (f.fix) out.push(`      ${s.dim('fix:')} ${f.fix}`);
  return out;
}

function findings(r: StatusReport, s: Style): string {
  const out: string[] = [];
  if (r.reasons.length) out.push(s.bold(r.verdict === 'down' ? 'Why it is down' : 'Why it is degraded'), ...r.reasons.flatMap((f) => finding(f, s)));
  if (r.warnings.length) {
    if (out.length) out.push('');
    out.push(s.bold('Warnings'), ...r.warnings.flatMap((f) => finding(f, s)));
  }
  return out.join('\n');
}

const ratio = (ready: number, desired: number, s: Style) => (ready >= desired && desired > 0 ? s.ok(`${ready}/${desired}`) : ready === 0 ? s.fail(`${ready}/${desired}`) : s.warn(`${ready}/${desired}`));
const restarts = (n: number, s: Style) => (n > 0 ? s.warn(String(n)) : '0');

function workloads(r: StatusReport, s: Style): string {
  if (!r.workloads.length) return `${s.bold('Workloads')}\n  ${s.dim('none found')}`;
  const rows = r.workloads.map((w) =>
    w.missing
      ? [w.kind, w.name, s.fail('missing'), '', '', '', '']
      : [w.kind, w.name, ratio(w.ready, w.desired, s), `${w.updated}`, `${w.current}`, restarts(w.restarts, s), w.version ?? ''],
  );
  return `${s.bold('Workloads')}\n${section(['KIND', 'NAME', 'READY', 'UPDATED', 'PODS', 'RESTARTS', 'VERSION'], rows, s)}`;
}

function playersPath(r: StatusReport, s: Style): string | undefined {
  if (!r.probe) return undefined;
  if ('skipped' in r.probe) return `${s.bold('Players\' path')}  ${s.dim(`not probed: ${r.probe.skipped}`)}`;
  const lines = [s.bold('Players\' path')];
  for (const t of r.probe.probes) {
    lines.push(`  ${s.mark(t.ok ? 'pass' : 'fail')} ${t.transport === 'ws' ? 'TCP (WebSocket)' : 'UDP (WebRTC)'} via ${t.url}`);
    for (const h of t.hops) lines.push(`      ${s.mark(h.ok ? 'pass' : 'fail')} ${h.hop.padEnd(10)} ${h.ok ? s.dim(h.detail) : h.detail}`);
  }
  return lines.join('\n');
}

function gameServers(r: StatusReport, s: Style): string {
  const g = r.gameServers;
  const ms = (x: number | null) => (x === null ? '' : `${Math.round(x)} ms`);
  const tracks = g.tracks
    .map((t) => `${t.track} ${ratio(t.ready, t.pods, s)} ready, ${t.restarts} restarts, players ${t.players ?? 'unknown'}${t.ackP95Ms !== null ? `, move→ack p95 ${ms(t.ackP95Ms)}` : ''}${t.tickP99Ms !== null ? `, tick p99 ${ms(t.tickP99Ms)}` : ''}`)
    .join(' · ');
  const lines = [`${s.bold('Game servers')}  ${g.players.total !== null ? `${g.players.total} players · ` : ''}${tracks}`];
  if (g.pods.length) {
    const rows = g.pods.map((p) => [
      p.track ?? '',
      p.name,
      p.ready ? s.ok('yes') : s.fail('no'),
      p.ready ? p.state : s.warn(p.state),
      restarts(p.restarts, s),
      p.node ?? s.dim('-'),
      p.zone ?? s.dim('-'),
      age(p.createdAt, r.observedAt),
      p.players === null ? s.dim('unknown') : String(p.players),
    ]);
    lines.push(section(['TRACK', 'POD', 'READY', 'STATE', 'RESTARTS', 'NODE', 'ZONE', 'AGE', 'PLAYERS'], rows, s));
  } else {
    lines.push(`  ${s.dim('no game server pods')}`);
  }
  lines.push(`  ${s.dim(`players: ${g.players.source === 'unavailable' ? `unknown (${g.players.note})` : g.players.note}`)}`);
  const c = g.cost;
  if (c) {
    const perPlayer = c.perPlayerHour === null ? s.dim('unknown while nobody plays') : `${money(c.perPlayerHour)} ${c.currency}`;
    const over = c.perPlayerHour !== null && c.budgetPerPlayerHour !== null && c.perPlayerHour > c.budgetPerPlayerHour;
    const budget = c.budgetPerPlayerHour === null ? '' : ` (budget ${c.budgetPerPlayerHour})`;
    lines.push(`  Cost per player-hour ${over ? s.warn(`${perPlayer}${budget}`) : `${perPlayer}${budget}`} · ${c.perHour === null ? 'unknown' : `${money(c.perHour)} ${c.currency}`} per hour`);
    lines.push(`  ${s.dim(`cost: ${c.note}`)}`);
  }
  return lines.join('\n');
}

function scaling(r: StatusReport, s: Style): string {
  const out: string[] = [];
  const a = r.autoscaler;
  if (a?.missing) out.push(`${s.bold('Autoscaler')}  ${a.name} ${s.fail('missing')}`);
  else if (a) {
    out.push(`${s.bold('Autoscaler')}  ${a.name}: ${a.current} running, ${a.desired === null ? s.warn('desired unknown') : `${a.desired} desired`} (min ${a.min}, max ${a.max})`);
    if (a.metrics.length) out.push(section(['METRIC', 'TARGET', 'CURRENT'], a.metrics.map((m) => [m.name, m.target, m.current ?? s.warn('unknown')]), s));
    if (a.unknownReason) out.push(`  ${s.dim(`unknown because ${a.unknownReason}`)}`);
  } else out.push(`${s.bold('Autoscaler')}  ${s.dim('none (fixed replicas)')}`);
  const p = r.disruptionBudget;
  if (p?.missing) out.push(`${s.bold('Disruption budget')}  ${p.name} ${s.fail('missing')}`);
  else if (p) {
    const allowed = `${p.allowedDisruptions} eviction${p.allowedDisruptions === 1 ? '' : 's'} allowed`;
    out.push(`${s.bold('Disruption budget')}  ${p.name}: ${p.allowedDisruptions === 0 && p.expectedPods > 0 ? s.warn(allowed) : allowed} (${p.currentHealthy} healthy, ${p.desiredHealthy} needed)`);
  } else out.push(`${s.bold('Disruption budget')}  ${s.dim('none')}`);
  return out.join('\n');
}

/** Where a Service is reached from: its LoadBalancer address, node ports, or inside the cluster only. */
export function reach(svc: ServiceStatus): string {
  const ports = svc.ports;
  if (svc.type === 'LoadBalancer') {
    const where = svc.externalAddresses.length ? svc.externalAddresses.join(', ') : '<no address yet>';
    return ports.map((p) => `${where}:${p.port}/${p.protocol}`).join(' ');
  }
  if (svc.type === 'NodePort') return ports.map((p) => `<node address>:${p.nodePort ?? '?'}/${p.protocol}`).join(' ');
  return `in the cluster ${ports.map((p) => `${p.port}/${p.protocol}`).join(' ')}`;
}

function services(r: StatusReport, s: Style): string {
  if (!r.services.length) return `${s.bold('Services')}\n  ${s.dim('none found')}`;
  const rows = r.services.map((v) => {
    const eps = v.endpoints === null ? s.dim('unknown') : v.endpoints.ready === 0 && v.role.startsWith('players') ? s.fail('0') : `${v.endpoints.ready}`;
    const notReady = v.endpoints?.notReady ? s.warn(` (+${v.endpoints.notReady} not ready)`) : '';
    return v.missing ? [v.name, v.role, v.type, s.fail('missing'), ''] : [v.name, v.role, v.type, reach(v), `${eps}${notReady}`];
  });
  return `${s.bold('Services')}\n${section(['NAME', 'FOR', 'TYPE', 'REACHED AT', 'READY ENDPOINTS'], rows, s)}`;
}

function volumes(r: StatusReport, s: Style): string {
  if (!r.volumes.length) return '';
  const rows = r.volumes.map((v) => [v.name, v.phase === 'Bound' ? v.phase : s.warn(v.phase), v.capacity ?? v.requested ?? '', v.storageClass ?? s.dim('default')]);
  return `${s.bold('Volumes')}\n${section(['CLAIM', 'PHASE', 'SIZE', 'CLASS'], rows, s)}`;
}

function dataServices(r: StatusReport, s: Style): string {
  const parts = r.dataServices.map((d) => {
    if (d.mode === 'external') return `${d.name} external${d.host ? ` (${d.host})` : ''}`;
    if (d.mode === 'unknown') return `${d.name} ${s.warn('unknown')}`;
    return `${d.name} ${ratio(d.ready, d.desired, s)} ready`;
  });
  return `${s.bold('Data services')}  ${parts.join(' · ')}`;
}

function canary(r: StatusReport, s: Style): string {
  const c = r.canary;
  if (!c.present) return `${s.bold('Canary')}  ${s.dim('none')}`;
  return `${s.bold('Canary')}  ${c.deployment}: version ${c.version ?? '?'} (${c.image ?? '?'}), ${ratio(c.ready, c.desired, s)} ready`;
}

function events(r: StatusReport, s: Style): string {
  if (!r.events.length) return `${s.bold('Warning events')} ${s.dim('(last 15 min)')}  ${s.dim('none')}`;
  const lines = [`${s.bold('Warning events')} ${s.dim('(last 15 min, newest first)')}`];
  for (const e of r.events) {
    const count = e.count > 1 ? ` ×${e.count}` : '';
    lines.push(`  ${age(e.lastSeen, r.observedAt).padStart(3)}  ${e.object}  ${s.warn(e.reason)}${count}: ${e.message}`);
  }
  return lines.join('\n');
}

/**
 * What changed between pictures, for `--wait` without a terminal: the verdict and its reasons with
 * numbers left out, so a growing restart count or a ticking age is not a change.
 */
export function statusSignature(r: StatusReport): string {
  return [r.verdict, ...r.reasons.map((f) => `${f.component}:${f.message.replace(/\d+/g, '#')}`)].join('|');
}

/** One timestamped line: the time, the verdict, and the reasons. */
export function statusLine(r: StatusReport, s: Style): string {
  const time = r.observedAt.slice(11, 19);
  const reasons = r.reasons.map((f) => f.message).join('; ');
  return `${s.dim(time)} ${s.mark(HEALTH_MARK[r.verdict])} ${paint(r.verdict, s)(r.verdict)}${reasons ? `: ${reasons}` : ''}`;
}
