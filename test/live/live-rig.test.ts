// The live rig running the real chart's game servers (helm 3): each pod labelled
// mmo.dev/rig-run=process runs `node server/src/main.ts` in its own network namespace with an address
// of the rig's bridge, becomes Ready through its own probes, is listed in the Service's EndpointSlice
// and reached through the API server's pod proxy; the rig's routes keep every invented address on the
// machine; the rig's Prometheus, configured from the chart's rendered ServiceMonitor, scrapes them
// with namespace, pod and track; `mmoctl status` counts exactly the bots connected (from Prometheus
// and through the pod proxy); a killed process is restarted and shows as a restart; deleting the
// release stops each process with SIGTERM and removes its network namespace.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkPlan, covers, readMachine, planNetwork } from '../../scripts/rig/live/network.ts';
import { liveFiles } from '../../scripts/rig/live/state.ts';
import { json, mmoctl } from '../support/cli.ts';
import { CHART_DIR, PRESETS_DIR } from '../support/chart.ts';
import { clients, eventually, helm, uniqueName } from '../cluster/kube.ts';
import { ensureMonitoringCrds, podSecurityNamespace } from '../cluster/mmo-chart.ts';
import { startBots } from './bots.ts';
import { liveValues, readyEndpoints, readyPods, serviceSecrets, valuesFile } from './live-release.ts';

const exec = promisify(execFile);
const rig = inject('liveRig');
const live = rig.live;
const admin = clients(rig.kubeconfig);
const RELEASE = 'game';
const GAME_SERVERS = 'app.kubernetes.io/component=game-server';

interface StatusDoc {
  verdict: string;
  gameServers: {
    pods: { name: string; ready: boolean; restarts: number; players: number | null; playersSource: string }[];
    players: { source: string; total: number | null };
  };
}

const promQuery = async (expr: string) => {
  const res = await fetch(`${live.prometheusUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`Prometheus refused ${expr}`);
  return body.data.result;
};

/** PIDs running in a pod's network namespace. */
const podPids = async (uid: string) =>
  (await exec('ip', ['netns', 'pids', `mmo-r${live.slot}-${uid}`])).stdout.split('\n').map(Number).filter((p) => p > 0);

describe('the live rig runs the chart\'s game servers as processes (helm 3)', () => {
  const helmPath = () => inject('helmPaths')[3];
  const cli = (args: string[]) => mmoctl([...args, '-n', ns, '--release', RELEASE, '-o', 'json'], { kubeconfig: rig.kubeconfig, helm: helmPath(), timeoutMs: 60_000 });
  let ns = '';
  let installMs = 0;

  beforeAll(async () => {
    await ensureMonitoringCrds(admin);
    ns = await podSecurityNamespace(admin, uniqueName('live'), 'restricted');
    await serviceSecrets(admin, ns, live);
    const values = valuesFile(ns, liveValues(live, { replicas: 2 }));
    const res = await helm(helmPath(), rig.kubeconfig, ['install', RELEASE, CHART_DIR, '-n', ns, '-f', join(PRESETS_DIR, 'dev.yaml'), '-f', values, '--wait', '--timeout', '150s'], 170_000);
    installMs = res.ms;
    expect(res.code, res.stderr).toBe(0);
  });

  afterAll(async () => {
    if (!ns) return;
    await helm(helmPath(), rig.kubeconfig, ['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '60s']).catch(() => {});
    await admin.core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it('gives each pod its own network namespace and an address on the bridge, Ready by its own probes, in the EndpointSlice and the pod proxy', async () => {
    const pods = await readyPods(admin, ns, GAME_SERVERS, 2);
    console.error(`[live] helm install --wait of 2 process pods: ${(installMs / 1000).toFixed(1)} s`);
    for (const p of pods) {
      expect(covers(live.podCidr, p.status!.podIP!), `${p.status?.podIP} in ${live.podCidr}`).toBe(true);
      expect(p.status?.hostIP).toBe(live.nodes.find((n) => n.name === p.spec?.nodeName)?.internalIP);
      expect(p.status?.containerStatuses?.find((c) => c.name === 'server')).toMatchObject({ ready: true, started: true, restartCount: 0, state: { running: expect.anything() } });
      // The init container ran the real migrations against the real PostgreSQL and completed.
      expect(p.status?.initContainerStatuses?.find((c) => c.name === 'migrate')?.state?.terminated?.exitCode).toBe(0);
      const pids = await podPids(p.metadata!.uid!);
      expect(pids.length, `processes in ${p.metadata?.name}'s network namespace`).toBeGreaterThan(0);
      const cmdline = readFileSync(`/proc/${pids.at(-1)}/cmdline`, 'utf8').split('\0').join(' ');
      expect(cmdline).toMatch(/node .*server\/src\/main\.ts/);
    }
    const endpoints = await readyEndpoints(admin, ns, `${RELEASE}-mmo-server`);
    expect(endpoints.map((e) => e.ip).sort()).toEqual(pods.map((p) => p.status!.podIP!).sort());
    for (const p of pods) {
      const metrics = await admin.core.connectGetNamespacedPodProxyWithPath({ namespace: ns, name: `${p.metadata!.name}:9090`, path: 'metrics' });
      expect(String(metrics)).toMatch(/^game_server_active_players\{/m);
    }
  });

  it('keeps every address it invents on the machine: pods on the bridge, the rest blackholed, nothing over the resolver or gateway', async () => {
    const routeGet = async (address: string) => {
      try {
        return (JSON.parse((await exec('ip', ['-j', 'route', 'get', address])).stdout) as { dev?: string; type?: string }[])[0];
      } catch (err) {
        return { error: String(err) };
      }
    };
    const pods = await readyPods(admin, ns, GAME_SERVERS, 2);
    for (const p of pods) expect(await routeGet(p.status!.podIP!)).toMatchObject({ dev: live.bridge });
    for (const invented of ['10.244.0.7', '10.96.0.10', '198.51.100.20']) expect(await routeGet(invented)).toMatchObject({ error: expect.stringMatching(/Invalid argument|unreachable/) });
    for (const n of live.nodes) for (const a of [n.internalIP, n.externalIP]) expect(await routeGet(a)).toMatchObject({ type: 'local' });
    const routes = JSON.parse((await exec('ip', ['-j', 'route', 'show', 'proto', '109'])).stdout) as { dst: string; type?: string; metric?: number }[];
    expect(routes.filter((r) => r.metric === 1000 + live.slot).map((r) => `${r.type} ${r.dst}`).sort()).toEqual(['blackhole 10.244.0.0/22', 'blackhole 10.96.0.0/16', 'blackhole 198.51.100.0/24']);
    // What the rig added still holds none of the machine's own addresses, resolver or gateway.
    expect(checkPlan(planNetwork(live.slot), await readMachine())).toEqual([]);
  });

  it('has Prometheus scrape them as the chart\'s ServiceMonitor says, with namespace, pod and track', async () => {
    const outcomes = JSON.parse(readFileSync(liveFiles(rig.stateDir).serviceMonitors, 'utf8')) as { monitors: { namespace: string; name: string; accepted: boolean; reasons: string[] }[]; reloadError?: string };
    expect(outcomes.reloadError).toBeUndefined();
    expect(outcomes.monitors.find((m) => m.namespace === ns)).toMatchObject({ name: `${RELEASE}-mmo-server`, accepted: true, reasons: [] });
    const pods = (await readyPods(admin, ns, GAME_SERVERS, 2)).map((p) => p.metadata!.name!).sort();
    const series = await eventually('both pods scraped', async () => {
      const r = await promQuery(`sum by (namespace, pod, mmo_dev_track) (game_server_active_players{namespace="${ns}"})`);
      return r.length === 2 ? r : undefined;
    }, 30_000);
    expect(series.map((s) => s.metric.pod).sort()).toEqual(pods);
    expect(series.every((s) => s.metric.namespace === ns && s.metric.mmo_dev_track === 'stable')).toBe(true);
  });

  it('refuses a broken ServiceMonitor, naming what is wrong', async () => {
    const objects = admin.objects;
    const name = 'broken';
    await objects.create({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name, namespace: ns },
      spec: { selector: { matchLabels: { 'app.kubernetes.io/instance': RELEASE } }, endpoints: [{ port: 'metrics', interval: '2s', scrapeTimeout: '5s', relabelings: [{ action: 'replace', sourceLabels: ['pod'], regex: '(' }] }] },
    } as never);
    const refused = await eventually('the broken ServiceMonitor refused', async () => {
      const o = JSON.parse(readFileSync(liveFiles(rig.stateDir).serviceMonitors, 'utf8')) as { monitors: { namespace: string; name: string; accepted: boolean; reasons: string[] }[] };
      return o.monitors.find((m) => m.namespace === ns && m.name === name);
    }, 10_000);
    expect(refused.accepted).toBe(false);
    expect(refused.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/scrapeTimeout 5s is longer than its interval 2s/), expect.stringMatching(/relabelings\[0\]\.regex "\(" does not compile/), expect.stringMatching(/relabelings\[0\]: action replace needs a targetLabel/)]));
    await objects.delete({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name, namespace: ns } } as never);
  });

  it('shows in mmoctl status exactly the bots connected, from Prometheus and through the pod proxy', async () => {
    const endpoints = await readyEndpoints(admin, ns, `${RELEASE}-mmo-server`);
    const perPod = 15;
    // Each run ends by itself 20 s after its bots joined: the checks below happen while they play.
    const runs = endpoints.map((e) => ({ pod: e.pod, run: startBots(`http://${e.ip}:8080`, perPod, 20) }));
    try {
      await eventually('Prometheus seeing every bot', async () => {
        const r = await promQuery(`sum(game_server_active_players{namespace="${ns}"})`);
        return Number(r[0]?.value[1]) === perPod * endpoints.length ? true : undefined;
      }, 45_000);
      for (const args of [['--prometheus-url', live.prometheusUrl], []]) {
        const res = await cli(['status', ...args]);
        const doc = json<StatusDoc>(res);
        expect(doc.gameServers.players.total, `${args.join(' ') || 'pod proxy'}: ${res.stdout}`).toBe(perPod * endpoints.length);
        for (const p of doc.gameServers.pods) expect(p.players, p.name).toBe(perPod);
        expect(doc.gameServers.players.source).toBe(args.length ? 'prometheus' : 'pod-metrics');
      }
    } catch (err) {
      for (const r of runs) r.run.stop();
      throw err;
    }
    for (const r of runs) {
      const { report, stderr } = await r.run.done;
      expect(report?.ccu.target, stderr).toBe(perPod);
      expect(report?.ccu.acked, stderr).toBe(perPod);
    }
  });

  it('restarts a killed process, which shows as a restart, its previous log still readable', async () => {
    const [victim] = await readyPods(admin, ns, GAME_SERVERS, 2);
    const name = victim!.metadata!.name!;
    for (const pid of await podPids(victim!.metadata!.uid!)) process.kill(pid, 'SIGKILL');
    const degraded = await eventually('status degraded while the pod restarts', async () => {
      const doc = json<StatusDoc>(await cli(['status', '--no-metrics']));
      return doc.verdict === 'degraded' ? doc : undefined;
    }, 20_000);
    expect(degraded.gameServers.pods.find((p) => p.name === name)?.ready).toBe(false);
    const pod = await eventually('the server container restarted and ready', async () => {
      const p = await admin.core.readNamespacedPod({ namespace: ns, name });
      const c = p.status?.containerStatuses?.find((x) => x.name === 'server');
      return c?.restartCount === 1 && c.ready ? p : undefined;
    }, 60_000);
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    const previous = await admin.core.readNamespacedPodLog({ namespace: ns, name, container: 'server', previous: true });
    expect(previous).toMatch(/"msg":"listening"/);
    const doc = json<StatusDoc>(await cli(['status', '--no-metrics']));
    expect(doc.gameServers.pods.find((p) => p.name === name)?.restarts).toBe(1);
  });

  it('stops each process with SIGTERM on deletion and removes its network namespace', async () => {
    const pods = await readyPods(admin, ns, GAME_SERVERS, 2);
    const res = await helm(helmPath(), rig.kubeconfig, ['uninstall', RELEASE, '-n', ns, '--wait', '--timeout', '60s']);
    expect(res.code, res.stderr).toBe(0);
    await eventually('the pods gone', async () => ((await admin.core.listNamespacedPod({ namespace: ns, labelSelector: GAME_SERVERS })).items.length === 0 ? true : undefined), 60_000);
    const namespaces = (await exec('ip', ['netns', 'list'])).stdout;
    for (const p of pods) {
      expect(namespaces).not.toContain(p.metadata!.uid!);
      const dir = join(live.podsDir, `${ns}_${p.metadata!.name}_${p.metadata!.uid}`, 'logs', 'server');
      const last = readFileSync(join(dir, `${p.status!.containerStatuses![0]!.restartCount}.log`), 'utf8');
      expect(last).toMatch(/"msg":"signal received: draining","signal":"SIGTERM"/);
    }
  });
});
