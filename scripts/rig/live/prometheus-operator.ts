/**
 * The live rig's stand-in for prometheus-operator, a process of its own
 * (`node scripts/rig/live/prometheus-operator.ts <state dir>`): every second it reads every
 * ServiceMonitor from the API server, derives Prometheus' scrape configuration from them
 * (servicemonitor.ts), and when that changes writes it and asks Prometheus to reload. What became of
 * each ServiceMonitor (accepted with its jobs, or refused with the reasons) is written to
 * `<state>/prometheus/servicemonitors.json` and logged. Every ServiceMonitor of the cluster is
 * taken (no serviceMonitorSelector).
 *
 * It also does the discovery Debian's Prometheus cannot (it is built without Kubernetes discovery):
 * every second it reads the Endpoints, Services and Pods of the namespaces the jobs cover and writes
 * each job's targets, with the labels Prometheus' own `role: endpoints` discovery would give, to the
 * job's file_sd file (servicemonitor.ts, endpointsTargets). The relabelings derived from the
 * ServiceMonitor then pick targets and labels exactly as they would under the operator.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { readState } from '../processes.ts';
import { apiGet } from '../status.ts';
import { endpointsTargets, prometheusConfig, targetsFile, type DiscoveryConfig, type DiscoveryObjects, type ServiceMonitor } from './servicemonitor.ts';
import { liveFiles } from './state.ts';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

/** Where the rig's Prometheus finds the targets this process discovers. */
export function discoveryFor(stateDir: string): DiscoveryConfig {
  return { targetsDir: join(liveFiles(stateDir).prometheusDir, 'targets') };
}

/** Writes a file so that readers see the old or the new content, never a part. */
export async function writeAtomically(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

/** The scrape configuration for `monitors`, as YAML, and the outcome of each. */
export function renderConfig(monitors: readonly ServiceMonitor[], discovery: DiscoveryConfig) {
  const { config, outcomes, jobs } = prometheusConfig(monitors, discovery);
  return { yaml: stringify(config), outcomes, jobs };
}

if (import.meta.main) {
  const stateDir = process.argv[2];
  const state = stateDir ? await readState(stateDir) : undefined;
  if (!stateDir || !state?.live) {
    process.stderr.write(`usage: node scripts/rig/live/prometheus-operator.ts <live rig state dir> (none recorded in ${stateDir})\n`);
    process.exit(2);
  }
  const files = liveFiles(stateDir);
  const discovery = discoveryFor(stateDir);
  await mkdir(discovery.targetsDir, { recursive: true });
  const pki = join(stateDir, 'pki');
  const tls = { ca: await readFile(join(pki, 'ca.crt')), cert: await readFile(join(pki, 'prometheus.crt')), key: await readFile(join(pki, 'prometheus.key')) };
  const list = async <T>(path: string): Promise<T[]> => {
    const r = await apiGet(state.server, path, tls);
    if (r.code !== 200) throw new Error(`GET ${path}: HTTP ${r.code} ${r.body.slice(0, 200)}`);
    return (JSON.parse(r.body) as { items?: T[] }).items ?? [];
  };
  const targetsWritten = new Map<string, string>();
  const reloadUrl = `http://127.0.0.1:${state.live.prometheusPort}/-/reload`;
  let written = await readFile(files.prometheusConfig, 'utf8').catch(() => '');
  let reported = '';
  let reloadError: string | undefined;
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
  });
  log('watching ServiceMonitors');
  while (!stopping) {
    try {
      const r = await apiGet(state.server, '/apis/monitoring.coreos.com/v1/servicemonitors', tls);
      // No CRD yet: no ServiceMonitor.
      const monitors = r.code === 404 ? [] : r.code === 200 ? ((JSON.parse(r.body) as { items: ServiceMonitor[] }).items ?? []) : undefined;
      if (!monitors) throw new Error(`listing ServiceMonitors: HTTP ${r.code} ${r.body.slice(0, 200)}`);
      const { yaml, outcomes, jobs } = renderConfig(monitors, discovery);
      // Targets first, so a job Prometheus loads finds its file.
      if (jobs.length) {
        const objects: DiscoveryObjects = {
          endpoints: await list('/api/v1/endpoints'),
          services: await list('/api/v1/services'),
          pods: await list('/api/v1/pods'),
        };
        for (const j of jobs) {
          const file = targetsFile(discovery, String(j.job.job_name));
          const text = JSON.stringify(endpointsTargets(objects, j.namespaces), null, 1);
          if (targetsWritten.get(file) !== text) {
            await writeAtomically(file, text);
            targetsWritten.set(file, text);
          }
        }
      }
      const wanted = new Set(jobs.map((j) => targetsFile(discovery, String(j.job.job_name))));
      for (const f of await readdir(discovery.targetsDir)) {
        const file = join(discovery.targetsDir, f);
        if (f.endsWith('.json') && !wanted.has(file)) {
          await rm(file, { force: true });
          targetsWritten.delete(file);
        }
      }
      if (yaml !== written) {
        await writeAtomically(files.prometheusConfig, yaml);
        written = yaml;
        const res = await fetch(reloadUrl, { method: 'POST' }).catch((err: Error) => ({ ok: false, status: 0, text: async () => err.message }));
        reloadError = res.ok ? undefined : `Prometheus refused the configuration (HTTP ${res.status}): ${(await res.text()).trim()}`;
        log(reloadError ?? `configuration reloaded: ${outcomes.filter((o) => o.accepted).flatMap((o) => o.jobs).join(', ') || 'no jobs'}`);
      }
      const report = JSON.stringify({ monitors: outcomes, ...(reloadError ? { reloadError } : {}) }, null, 2);
      if (report !== reported) {
        await writeAtomically(files.serviceMonitors, report);
        reported = report;
        for (const o of outcomes.filter((x) => !x.accepted)) log(`ServiceMonitor ${o.namespace}/${o.name} refused: ${o.reasons.join('; ')}`);
      }
    } catch (err) {
      log(String(err));
    }
    await sleep(1000);
  }
}
