import { describe, expect, inject, it } from 'vitest';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { templateRaw, type Preset } from '../support/chart.ts';

interface BadCase {
  name: string;
  values: object;
  presets?: Preset[];
  /** Kinds the cluster serves (default: with prometheus-operator's, as every offline render here). */
  apiVersions?: string[];
  /** Every string must appear in helm's error: the key's path, and for cross-field rules the fix. */
  mentions: string[];
}

// One row per way a studio can get values wrong. Every row names the key as a dotted path (helm 4
// prints schema errors at JSON pointers, helm 3 at dotted paths: normalised below); template rows also
// give the --set that fixes it.
const CASES: BadCase[] = [
  { name: 'unknown top-level key', values: { replicas: 3 }, mentions: ['(root)', 'replicas'] },
  { name: 'unknown nested key (typo)', values: { gameServer: { autoscalling: { enabled: true } } }, mentions: ['gameServer', 'autoscalling'] },
  { name: 'wrong type', values: { gameServer: { replicas: 'three' } }, mentions: ['gameServer.replicas'] },
  { name: 'bad enum: udp mode', values: { udp: { mode: 'satellite' } }, mentions: ['udp.mode', 'nodePort'] },
  { name: 'bad enum: service type', values: { service: { type: 'ExternalName' } }, mentions: ['service.type'] },
  { name: 'bad enum: log level', values: { gameServer: { config: { logLevel: 'verbose' } } }, mentions: ['gameServer.config.logLevel'] },
  { name: 'out of range: port', values: { service: { port: 70000 } }, mentions: ['service.port'] },
  { name: 'out of range: tick rate', values: { gameServer: { config: { tickRate: 0 } } }, mentions: ['gameServer.config.tickRate'] },
  { name: 'out of range: playersPerPod', values: { capacity: { playersPerPod: 0 } }, mentions: ['capacity.playersPerPod'] },
  { name: 'malformed quantity', values: { gameServer: { resources: { limits: { memory: 'lots' } } } }, mentions: ['gameServer.resources.limits.memory'] },
  { name: 'missing limits', values: { redis: { resources: { limits: null } } }, mentions: ['redis.resources'] },
  { name: 'bad zones list', values: { gameServer: { config: { zones: 'north,south' } } }, mentions: ['gameServer.config.zones'] },
  { name: 'credential inline in ICE servers', values: { udp: { iceServers: [{ urls: ['turn:t.example.com'], credential: 'hunter2' }] } }, mentions: ['udp.iceServers.0', 'credential'] },
  { name: 'bad address type', values: { udp: { announce: { addressTypes: ['PublicIP'] } } }, mentions: ['udp.announce.addressTypes.0'] },
  { name: 'bundled Postgres off with no external host', values: { postgres: { enabled: false } }, mentions: ['postgres.external.host', '--set postgres.external.host=', 'postgres.external.existingSecret'] },
  { name: 'bundled Redis off with no external host', values: { redis: { enabled: false, external: { existingSecret: 'r' } } }, mentions: ['redis.external.host'] },
  { name: 'bundled RabbitMQ off with no credentials Secret', values: { rabbitmq: { enabled: false, external: { host: 'mq' } } }, mentions: ['rabbitmq.external.existingSecret'] },
  { name: 'HPA min above max', values: { gameServer: { autoscaling: { enabled: true, minReplicas: 8, maxReplicas: 4 } } }, mentions: ['gameServer.autoscaling.minReplicas (8)', '--set gameServer.autoscaling.maxReplicas=8'] },
  { name: 'HPA min above derived max', presets: ['production'], values: { gameServer: { autoscaling: { minReplicas: 20 } } }, mentions: ['gameServer.autoscaling.maxReplicas (11)'] },
  { name: 'HPA with no metric', values: { gameServer: { autoscaling: { enabled: true, targetCPUUtilizationPercentage: 0, targetMemoryUtilizationPercentage: 0 } } }, mentions: ['gameServer.autoscaling has no metric'] },
  { name: 'PDB minAvailable not below replicas', values: { gameServer: { replicas: 2, pdb: { minAvailable: 2 } } }, mentions: ['gameServer.pdb.minAvailable (2)', '--set gameServer.pdb.minAvailable=1'] },
  { name: 'PDB minAvailable not below HPA min', presets: ['production'], values: { gameServer: { pdb: { minAvailable: 6 } } }, mentions: ['gameServer.pdb.minAvailable (6)', 'the 6 stable'] },
  { name: 'requests above limits (cpu)', values: { gameServer: { resources: { requests: { cpu: '1500m' }, limits: { cpu: '1' } } } }, mentions: ['gameServer.resources.requests.cpu (1500m)', '--set gameServer.resources.limits.cpu=1500m'] },
  { name: 'requests above limits (memory units)', values: { postgres: { resources: { requests: { memory: '2Gi' }, limits: { memory: '1500Mi' } } } }, mentions: ['postgres.resources.requests.memory (2Gi)'] },
  { name: 'grace period not above drain time', values: { gameServer: { terminationGracePeriodSeconds: 20, config: { drainSeconds: 30 } } }, mentions: ['gameServer.terminationGracePeriodSeconds (20)', '--set gameServer.terminationGracePeriodSeconds=45'] },
  { name: 'patch rate above tick rate', values: { gameServer: { config: { tickRate: 10, patchRate: 30 } } }, mentions: ['gameServer.config.patchRate (30)'] },
  { name: 'canary without its own image', values: { canary: { enabled: true } }, mentions: ['canary.image.tag', '--set canary.image.tag='] },
  { name: 'relay mode without a TURN server', values: { udp: { mode: 'relay' } }, mentions: ['udp.iceServers', 'udp.mode is relay'] },
  { name: 'public URL that is not http(s)', values: { gameServer: { publicUrl: 'ws://game.example.com' } }, mentions: ['gameServer.publicUrl'] },
  { name: 'public URL with a path', values: { gameServer: { publicUrl: 'https://game.example.com/play' } }, mentions: ['gameServer.publicUrl'] },
  { name: 'partition without a public address', values: { gameServer: { config: { zones: '0-1' } } }, mentions: ['gameServer.publicUrl is empty', 'zones is "0-1"', '--set gameServer.publicUrl=https://'] },
  { name: 'admin token Secret with a bad name', values: { gameServer: { admin: { existingSecret: 'Admin_Token' } } }, mentions: ['gameServer.admin.existingSecret'] },
  { name: 'ingress without hosts', values: { ingress: { enabled: true } }, mentions: ['ingress.hosts'] },
  { name: 'ServiceMonitor without the prometheus-operator CRDs', presets: ['production'], apiVersions: [], values: {}, mentions: ['monitoring.serviceMonitor.enabled is true but the cluster has no ServiceMonitor kind', '--set monitoring.serviceMonitor.enabled=false', 'kube-prometheus-stack'] },
  { name: 'PrometheusRule without its CRD', presets: ['staging'], apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor'], values: {}, mentions: ['monitoring.prometheusRule.enabled is true but the cluster has no PrometheusRule kind', '--set monitoring.prometheusRule.enabled=false', '--api-versions monitoring.coreos.com/v1/PrometheusRule'] },
];

const majors: HelmMajor[] = [3, 4];

/** helm 4's "at '/a/b/0'" becomes "a.b.0", and "at ''" becomes "(root)", as helm 3 prints them. */
function normalise(stderr: string): string {
  return stderr.replace(/at '([^']*)'/g, (_m, pointer: string) => (pointer ? pointer.slice(1).replaceAll('/', '.') : '(root)'));
}

describe.each(majors)('helm %i rejects bad values, naming the key', (major) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await templateRaw(inject('helmPaths')[major], { values: [c.values], presets: c.presets ?? [], ...(c.apiVersions ? { apiVersions: c.apiVersions } : {}) });
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    for (const text of c.mentions) expect(normalise(res.stderr)).toContain(text);
  });

  it('reports several broken rules in one failure', async () => {
    const res = await templateRaw(inject('helmPaths')[major], {
      values: [{ postgres: { enabled: false }, gameServer: { config: { tickRate: 10, patchRate: 20 }, pdb: { minAvailable: 5 } } }],
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/The values are not valid \(4 problems\)/);
  });

  it('renders the presets that keep monitoring off where the cluster has no prometheus-operator', async () => {
    for (const presets of [[], ['dev']] as Preset[][]) {
      const res = await templateRaw(inject('helmPaths')[major], { presets, apiVersions: [] });
      expect(res.code, res.stderr).toBe(0);
    }
  });
});
