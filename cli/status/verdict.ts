/**
 * The verdict over what status read: healthy, degraded or down, with every reason and what to do
 * about it. A pure function over `StatusData`, so each rule is a row in a table test.
 *
 * The rules (docs/cli.md lists them for users):
 * - down: players cannot play. No game server ready; the game Service without a ready endpoint or,
 *   as a LoadBalancer, without an address; a bundled data service with no ready pod (game servers
 *   report not ready without any of them); a game server Deployment, data StatefulSet or the game
 *   Service missing; a volume claim that lost its volume; the release being uninstalled.
 * - degraded: players can play, but something needs a look. Fewer game servers ready than wanted; a
 *   rollout in progress; a crash-looping, unschedulable or image-less pod; a canary not ready; a
 *   volume claim pending; the release failed or pending in helm; the UDP Service without endpoints;
 *   and a game server or data service whose state could not be read (healthy needs evidence).
 * - warnings never change the verdict: the autoscaler unable to compute or at its maximum, a
 *   disruption budget allowing no eviction, a recent restart of a ready pod, any other read that
 *   failed (events, nodes, the autoscaler…). Warning events are reported, not judged.
 */
import { EXIT, type ExitCode } from '../../contract/exit-codes.ts';
import { COMPONENTS } from '../../contract/labels.ts';
import { age, formatTime } from '../ui/age.ts';
import {
  COMPONENT_IDS,
  DATA_SERVICE_IDS,
  type ComponentHealth,
  type ComponentId,
  type ComponentState,
  type Finding,
  type Health,
  type PodStatus,
  type StatusData,
  type StatusReport,
  type Verdict,
} from './model.ts';

/** A pod not ready for longer than this gets a finding of its own (rollouts make pods briefly unready). */
export const SLOW_POD_MS = 2 * 60_000;
/** move→ack p95 players should see (the product's target). */
export const ACK_P95_TARGET_MS = 100;
/** A tick's time at 20 ticks per second. */
export const TICK_P99_TARGET_MS = 50;
/** A ready pod that restarted within this gets a warning. */
export const RECENT_RESTART_MS = 60 * 60_000;

const PULL_ERRORS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const START_ERRORS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'StartError', 'ContainerCannotRun']);

const PERMISSION_FIX = 'use a context that may read it, or ask an admin; `mmoctl preflight` lists every permission the release needs';

export function judge(d: StatusData): Verdict {
  const findings: Finding[] = [];
  const add = (component: ComponentId, level: Finding['level'], message: string, fix?: string) => findings.push(fix ? { component, level, message, fix } : { component, level, message });
  const unknown = new Set<ComponentId>();
  const ns = d.namespace;
  const since = (iso: string | null | undefined) => age(iso, d.observedAt);
  const failedRead = (component: ComponentId, read: string) => d.issues.find((i) => i.component === component && i.read === read);
  const lastEvent = (object: string) => d.events.find((e) => e.object === object);

  // Every failed read is a warning on its component; the verdict rules below decide what it hides.
  for (const i of d.issues) add(i.component, 'warning', i.message, i.forbidden ? PERMISSION_FIX : undefined);

  // The release as helm records it.
  const r = d.release;
  if (r) {
    const when = `since ${formatTime(r.updated)}, ${since(r.updated)} ago`;
    const back = r.lastDeployed === null ? 'the last deployed revision' : `revision ${r.lastDeployed}, the last one deployed`;
    switch (r.status) {
      case 'deployed':
        break;
      case 'pending-install':
        add('release', 'degraded', `the install of revision ${r.revision} has not finished (pending-install ${when})`, 'if no install is running any more, it was interrupted: run `mmoctl install` again');
        break;
      case 'pending-upgrade':
        add('release', 'degraded', `the upgrade to revision ${r.revision} has not finished (pending-upgrade ${when})`, `if no upgrade is running any more, it was interrupted: \`mmoctl rollback\` returns to ${back}`);
        break;
      case 'pending-rollback':
        add('release', 'degraded', `the rollback to revision ${r.revision} has not finished (pending-rollback ${when})`, 'if no rollback is running any more, it was interrupted: run `mmoctl rollback` again');
        break;
      case 'failed': {
        const install = r.lastDeployed === null;
        const desc = r.description ? `: ${r.description}` : '';
        add(
          'release',
          'degraded',
          `the last ${install ? 'install' : 'change'} failed (revision ${r.revision}, ${formatTime(r.updated)})${desc}`,
          install
            ? 'fix the cause, then run `mmoctl install` again (`mmoctl uninstall` first if it refuses to reuse the name)'
            : `\`mmoctl rollback\` returns to ${back}; or fix the cause and run \`mmoctl upgrade\` again`,
        );
        break;
      }
      case 'uninstalling':
        add('release', 'down', `the release is being uninstalled (${when})`);
        break;
      default:
        add('release', 'degraded', `helm records the release as ${r.status} (revision ${r.revision})`, '`mmoctl history` shows its revisions; `mmoctl rollback` returns to a deployed one');
    }
  }

  // Pods: why a workload is short of ready pods, one finding per pod that says so.
  const judgePod = (component: ComponentId, p: PodStatus) => {
    if (p.state === 'Terminating') return;
    const restarts = `${p.restarts} restart${p.restarts === 1 ? '' : 's'}`;
    const last = p.lastRestart;
    const exit = last ? `, last exit ${last.reason ?? 'unknown'}${last.exitCode !== null ? ` (code ${last.exitCode})` : ''}${last.at ? ` ${since(last.at)} ago` : ''}` : '';
    const logs = `\`kubectl logs -n ${ns} ${p.name}${last ? ` -c ${last.container}` : ''} --previous\` shows why it exits`;
    if (p.state === 'CrashLoopBackOff' || (!p.ready && p.restarts > 0 && p.phase === 'Running')) {
      add(component, 'degraded', `pod ${p.name} is crash-looping (${restarts}${exit})`, `${logs}; \`mmoctl rollback\` returns to the last revision that ran`);
    } else if (PULL_ERRORS.has(p.state)) {
      add(component, 'degraded', `pod ${p.name} cannot pull its image ${p.image ?? ''}${p.message ? `: ${p.message}` : ''}`.trim(), 'check the image repository and tag (`--version`) and imagePullSecrets');
    } else if (START_ERRORS.has(p.state)) {
      add(component, 'degraded', `pod ${p.name} cannot start its containers (${p.state})${p.message ? `: ${p.message}` : ''}`, `\`kubectl describe pod -n ${ns} ${p.name}\` shows what it lacks`);
    } else if (p.state === 'Unschedulable') {
      add(component, 'degraded', `pod ${p.name} cannot be scheduled${p.message ? `: ${p.message}` : ''}`, '`mmoctl preflight` checks capacity and placement; add nodes or lower the requests');
    } else if (!p.ready && p.phase !== 'Succeeded' && Date.parse(d.observedAt) - Date.parse(p.createdAt ?? d.observedAt) > SLOW_POD_MS) {
      add(component, 'degraded', `pod ${p.name} has not been ready for ${since(p.createdAt)} (${p.state}${p.message ? `: ${p.message}` : ''})`, `\`kubectl describe pod -n ${ns} ${p.name}\` shows its probes and events`);
    } else if (p.ready && p.restarts > 0 && (!last?.at || Date.parse(d.observedAt) - Date.parse(last.at) <= RECENT_RESTART_MS)) {
      add(component, 'warning', `pod ${p.name} restarted (${restarts}${exit})`, logs);
    }
  };

  // Game servers: the stable Deployment decides whether players can play.
  const games = d.workloads.filter((w) => w.kind === 'Deployment' && w.component === COMPONENTS.gameServer);
  const stable = games.find((w) => (w.track ?? 'stable') === 'stable');
  const canary = games.find((w) => w.track === 'canary');
  const deploymentsRead = failedRead('game-server', 'Deployment');
  if (deploymentsRead) {
    unknown.add('game-server');
    add('game-server', 'degraded', 'cannot tell whether the game servers are ready: their Deployments could not be read', PERMISSION_FIX);
  } else if (!stable) {
    add('game-server', 'down', 'the release has no game server Deployment: players cannot connect', 'run `mmoctl upgrade` with the release\'s values to create it again');
  } else if (stable.missing) {
    add('game-server', 'down', `the game server Deployment ${stable.name} is missing from the cluster: players cannot connect`, 'run `mmoctl upgrade` with the release\'s values to create it again');
  } else if (stable.ready === 0) {
    add('game-server', 'down', stable.desired === 0 ? `the game servers are scaled to 0 (Deployment ${stable.name}): players cannot connect` : `no game server is ready (0 of ${stable.desired}): players cannot connect`);
  } else if (stable.ready < stable.desired) {
    add('game-server', 'degraded', `${stable.ready} of ${stable.desired} game servers are ready`);
  }
  if (stable && !stable.missing && !stable.rolledOut && stable.desired > 0) {
    const old = stable.current - stable.updated;
    const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
    const progress =
      stable.updated < stable.desired
        ? `${stable.updated} of ${stable.desired} game servers run the current pod template`
        : old > 0
          ? `the new game server pods are not all ready, so ${plural(old, 'old one still runs', 'old ones still run')}`
          : 'the Deployment controller has not acted on the latest change yet';
    add('game-server', 'degraded', `a rollout has not finished: ${progress}`, `\`mmoctl status --wait\` waits for it; \`kubectl rollout status -n ${ns} deployment/${stable.name}\` follows it`);
  }
  for (const p of d.gameServers.pods.filter((x) => x.track !== 'canary')) judgePod('game-server', p);

  // The players' path, when it was probed: a hop that fails is players who cannot get in that way.
  if (d.probe && 'probes' in d.probe) {
    for (const t of d.probe.probes) {
      const bad = t.hops.find((h) => !h.ok);
      if (!bad) continue;
      const way = t.transport === 'ws' ? 'over TCP (WebSocket)' : 'over UDP';
      add('players-path', t.transport === 'ws' ? 'down' : 'degraded', `a bot could not play ${way} through ${t.url}: ${bad.hop} failed — ${bad.detail}`, t.transport === 'ws' ? 'check the load balancer or Ingress in front of the game Service, and its firewall' : 'open the UDP port in the nodes\' firewall and check the announced address (udp.announce.addressTypes); players fall back to WebSocket meanwhile');
    }
  }

  // What players feel, when the game metrics were read: the product's targets.
  for (const t of d.gameServers.tracks) {
    const component = t.track === 'canary' ? 'canary' : 'game-server';
    if (t.ackP95Ms !== null && t.ackP95Ms > ACK_P95_TARGET_MS) {
      add(component, 'degraded', `players on the ${t.track} game servers wait ${Math.round(t.ackP95Ms)} ms for a move to be acknowledged (p95; the target is ${ACK_P95_TARGET_MS} ms)`, 'see tick time and players per pod below; more pods (capacity.playersPerPod) or CPU spread the load');
    }
    if (t.tickP99Ms !== null && t.tickP99Ms > TICK_P99_TARGET_MS) {
      add(component, 'degraded', `the ${t.track} game servers take ${Math.round(t.tickP99Ms)} ms for a world tick (p99), more than the ${TICK_P99_TARGET_MS} ms a tick may take at 20 ticks per second`, 'the pods are out of CPU: raise gameServer.resources or lower capacity.playersPerPod');
    }
  }

  // The cost per player-hour (cost.*): above budget is worth a look, players still play.
  const cost = d.gameServers.cost;
  if (cost && cost.perPlayerHour !== null && cost.budgetPerPlayerHour !== null && cost.perPlayerHour > cost.budgetPerPlayerHour) {
    add('game-server', 'warning', `each player costs ${money(cost.perPlayerHour)} ${cost.currency} per hour, above the budget of ${cost.budgetPerPlayerHour} ${cost.currency} (cost.budgetPerPlayerHour)`, 'fewer players per pod than planned: check capacity.playersPerPod and the autoscaler\'s minimum, or requests above what the pods use (vpa.enabled recommends)');
  }

  // The canary: not ready is degraded, never down (the stable game servers still serve).
  if (canary?.missing) {
    add('canary', 'degraded', `the canary Deployment ${canary.name} is missing from the cluster`, 'run `mmoctl upgrade` with the release\'s values to create it again, or `mmoctl rollback`');
  } else if (canary && canary.ready < canary.desired) {
    add('canary', 'degraded', `the canary is not ready: ${canary.ready} of ${canary.desired} pods of ${canary.name} (${canary.version ?? canary.image ?? 'unknown version'})`, '`mmoctl rollback` removes it and leaves the stable game servers as they are');
  }
  for (const p of d.gameServers.pods.filter((x) => x.track === 'canary')) judgePod('canary', p);

  // Bundled data services: without any one of them the game servers are not ready.
  for (const id of DATA_SERVICE_IDS) {
    const s = d.dataServices.find((x) => x.name === id);
    const sts = d.workloads.find((w) => w.kind === 'StatefulSet' && w.component === id);
    if (!s || s.mode === 'external') continue;
    if (s.mode === 'unknown' || (failedRead(id, 'StatefulSet') && !sts)) {
      unknown.add(id);
      add(id, 'degraded', `cannot tell whether ${id} is ready: its StatefulSet could not be read`, PERMISSION_FIX);
      continue;
    }
    if (!sts || sts.missing) {
      add(id, 'down', `the ${id} StatefulSet ${s.workload ?? sts?.name ?? ''} is missing from the cluster: game servers are not ready without it`.replace('  ', ' '), 'run `mmoctl upgrade` with the release\'s values to create it again (its volume claim is kept)');
    } else if (sts.ready === 0) {
      add(id, 'down', `${id} is down (0 of ${sts.desired} ready): game servers are not ready without it`, `its pod below says why; \`kubectl describe pod -n ${ns} ${sts.name}-0\``);
    } else if (sts.ready < sts.desired) {
      add(id, 'degraded', `${id}: ${sts.ready} of ${sts.desired} pods ready`);
    } else if (!sts.rolledOut) {
      add(id, 'degraded', `${id} is rolling out: ${sts.updated} of ${sts.desired} pods run the current pod template`);
    }
    for (const p of d.pods.filter((x) => x.component === id)) judgePod(id, p);
  }

  // How players reach the game servers.
  const stableReady = stable && !stable.missing ? stable.ready : 0;
  for (const s of d.services) {
    if (s.role !== 'players' && s.role !== 'players-udp') continue;
    if (s.missing) {
      add('services', s.role === 'players' ? 'down' : 'degraded', `the Service ${s.name} is missing from the cluster${s.role === 'players' ? ': players cannot connect' : ': players cannot use UDP'}`, 'run `mmoctl upgrade` with the release\'s values to create it again');
      continue;
    }
    if (s.role === 'players' && s.type === 'LoadBalancer' && s.externalAddresses.length === 0) {
      add('services', 'down', `the LoadBalancer Service ${s.name} has no external address: players outside the cluster cannot connect`, `the cloud's load balancer controller assigns one; \`kubectl describe service -n ${ns} ${s.name}\` shows its events`);
    }
    // With no game server ready, that finding already says it; an empty Service beside ready pods is its own fault.
    if (s.endpoints && s.endpoints.ready === 0 && (stableReady > 0 || deploymentsRead)) {
      const why = s.role === 'players' ? 'players cannot connect' : 'players fall back to WebSocket';
      add('services', s.role === 'players' ? 'down' : 'degraded', `the Service ${s.name} has no ready endpoint: ${why}`, `its selector must match the ready game server pods; \`kubectl get endpointslices -n ${ns} -l kubernetes.io/service-name=${s.name}\``);
    }
  }

  // Volumes.
  for (const v of d.volumes) {
    const event = lastEvent(`PersistentVolumeClaim/${v.name}`);
    if (v.phase === 'Pending') {
      add('volumes', 'degraded', `the volume claim ${v.name} is Pending (storage class ${v.storageClass ?? 'default'})${event ? `: ${event.message}` : ''}`, `\`kubectl describe pvc -n ${ns} ${v.name}\` shows why; the StorageClass must exist and provision volumes`);
    } else if (v.phase === 'Lost') {
      add('volumes', 'down', `the volume claim ${v.name} lost its volume: the data of ${v.component || 'its workload'} is gone`, 'restore the PersistentVolume from a backup, then delete the pod so it mounts again');
    }
  }

  // The autoscaler and the disruption budget only warn: they matter for the next surge or drain.
  const a = d.autoscaler;
  if (a?.missing) {
    add('autoscaler', 'warning', `the HorizontalPodAutoscaler ${a.name} is missing from the cluster: the game servers do not scale`, 'run `mmoctl upgrade` with the release\'s values to create it again');
  } else if (a) {
    if (a.unknownReason) add('autoscaler', 'warning', `the autoscaler cannot compute the replica count: ${a.unknownReason}`, autoscalerFix(a.unknownReason));
    const able = a.conditions.find((c) => c.type === 'AbleToScale');
    if (able?.status === 'False') add('autoscaler', 'warning', `the autoscaler cannot scale: ${[able.reason, able.message].filter(Boolean).join(': ')}`);
    const limited = a.conditions.find((c) => c.type === 'ScalingLimited');
    if (limited?.status === 'True' && limited.reason === 'TooManyReplicas') {
      add('autoscaler', 'warning', `the autoscaler is at its maximum of ${a.max} game servers and wants more`, 'raise capacity.targetPlayers (the maximum follows it) or gameServer.autoscaling.maxReplicas');
    }
  }
  const pdb = d.disruptionBudget;
  if (pdb?.missing) {
    add('disruption-budget', 'warning', `the PodDisruptionBudget ${pdb.name} is missing from the cluster: node drains may evict every game server at once`, 'run `mmoctl upgrade` with the release\'s values to create it again');
  } else if (pdb && pdb.expectedPods > 0 && pdb.allowedDisruptions === 0) {
    add('disruption-budget', 'warning', `the disruption budget allows no eviction now (${pdb.currentHealthy} healthy, ${pdb.desiredHealthy} needed): node drains wait until more game servers are ready`);
  }

  return summarize(findings, unknown, d);
}

function autoscalerFix(reason: string): string | undefined {
  if (/FailedGetResourceMetric|metrics\.k8s\.io/.test(reason)) return 'the cluster serves no CPU or memory metrics (metrics.k8s.io): install metrics-server';
  if (/FailedGetPodsMetric|FailedGetObjectMetric|custom\.metrics/.test(reason)) return 'serve the players-per-pod metric through the custom metrics API (prometheus-adapter), or set gameServer.autoscaling.playersPerPod.enabled=false';
  if (/FailedGetExternalMetric/.test(reason)) return 'serve the metric through the external metrics API';
  return undefined;
}

const RANK: Record<Finding['level'], number> = { down: 0, degraded: 1, warning: 2 };

function summarize(findings: readonly Finding[], unknown: ReadonlySet<ComponentId>, d: StatusData): Verdict {
  const order = (f: Finding) => RANK[f.level] * 100 + COMPONENT_IDS.indexOf(f.component);
  const sorted = [...findings].sort((a, b) => order(a) - order(b));
  const reasons = sorted.filter((f) => f.level !== 'warning');
  const warnings = sorted.filter((f) => f.level === 'warning');
  const verdict: Health = reasons.some((f) => f.level === 'down') ? 'down' : reasons.length ? 'degraded' : 'healthy';
  const present = presence(d);
  const components = {} as Record<ComponentId, ComponentHealth>;
  for (const id of COMPONENT_IDS) {
    const own = sorted.filter((f) => f.component === id);
    const errors = own.filter((f) => f.level !== 'warning').map((f) => f.message);
    const warns = own.filter((f) => f.level === 'warning').map((f) => f.message);
    let state: ComponentState = own.some((f) => f.level === 'down') ? 'down' : errors.length ? 'degraded' : warns.length ? 'warning' : 'ok';
    if (unknown.has(id)) state = 'unknown';
    else if (state === 'ok' && !present[id]) state = 'absent';
    components[id] = { state, errors, warnings: warns };
  }
  return { verdict, reasons, warnings, components };
}

/** Which components this release runs (an external data service, no autoscaler, no canary: absent). */
function presence(d: StatusData): Record<ComponentId, boolean> {
  const bundled = (id: string) => d.dataServices.some((s) => s.name === id && s.mode !== 'external');
  return {
    release: true,
    'game-server': true,
    canary: d.canary.present,
    autoscaler: d.autoscaler !== null,
    'disruption-budget': d.disruptionBudget !== null,
    services: true,
    volumes: d.volumes.length > 0,
    postgres: bundled('postgres'),
    redis: bundled('redis'),
    rabbitmq: bundled('rabbitmq'),
    nodes: true,
    events: true,
    'players-path': Boolean(d.probe && 'probes' in d.probe),
  };
}

/** The data and its verdict: the `StatusReport`. */
export function statusReport(d: StatusData): StatusReport {
  return { ...d, ...judge(d) };
}

/** 0 when healthy, 3 (failed) when degraded or down. */
export function statusExitCode(r: Pick<StatusReport, 'verdict'>): ExitCode {
  return r.verdict === 'healthy' ? EXIT.ok : EXIT.failed;
}

/** A price with the digits that matter (0.0123, 4.20). */
export function money(x: number): string {
  return x >= 1 ? x.toFixed(2) : x.toPrecision(3).replace(/0+$/, '').replace(/\.$/, '');
}
