import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV, type EnvKey } from '../../contract/env.ts';
import { loadConfig } from '../../server/src/config.ts';
import { COMPONENTS, LABELS, TRACKS } from '../../contract/labels.ts';
import { PATHS } from '../../contract/ports.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { podSpecs, type PodSpec } from '../support/chart.ts';
import { manifestProblems, type Manifest } from '../support/k8s-strict.ts';
import { resourceViolations, restrictedViolations, selects, writableRootViolations } from '../support/policy.ts';
import { envValues, resolveContainerEnv, type ObjectData } from '../../scripts/rig/live/env.ts';
import { CASES, mergedValues, renderCases, valueFiles, type ValuesCase } from './cases.ts';
import { WIRING, userSecrets } from './env-wiring.ts';

const majors: HelmMajor[] = [3, 4];
/** What the server image's last stage copies from the repository (COPY lines after its last FROM). */
const IMAGE_PATHS = (() => {
  const dockerfile = readFileSync(join(PROJECT_ROOT, 'server', 'Dockerfile'), 'utf8');
  return [...dockerfile.slice(dockerfile.lastIndexOf('\nFROM ')).matchAll(/^COPY (?!--)(\S+)(?: \S+)? \S+$/gm)].map((m) => m[1]!.replace(/\/$/, ''));
})();
let rendered = new Map<string, Manifest[]>();
let defaults: object;
let presets: Record<string, object> = {};

beforeAll(async () => {
  ({ defaults, presets } = await valueFiles());
  rendered = await renderCases(inject('helmPaths'), majors, CASES);
}, 120_000);

const table = majors.flatMap((major) => CASES.map((c) => ({ major, c, label: `helm ${major}, ${c.name}` })));
const out = (major: HelmMajor, c: ValuesCase) => rendered.get(`${major}|${c.name}`)!;
const valuesOf = (c: ValuesCase) => mergedValues(defaults, presets, c);
const isGameServer = (labels: Record<string, string>) => labels[LABELS.component] === COMPONENTS.gameServer;
/** The pod templates of a case, the game server's among them: a loop over them always checks something. */
const podsOf = (major: HelmMajor, c: ValuesCase) => {
  const pods = podSpecs(out(major, c));
  expect(pods.filter((p) => isGameServer(p.labels)).length, 'game server pod templates').toBeGreaterThan(0);
  return pods;
};

describe.each(table)('$label', ({ major, c }) => {
  it('renders objects that are valid Kubernetes objects, with no unknown fields', async () => {
    const manifests = out(major, c);
    expect(manifests.length).toBeGreaterThan(10);
    const problems = (await Promise.all(manifests.map(manifestProblems))).flat();
    expect(problems).toEqual([]);
  });

  it('runs only programs the server image holds: every `node <file>` is copied in by server/Dockerfile', () => {
    // The file `node` runs: its first argument that is no flag (inline `-e` scripts have none).
    const files = podSpecs(out(major, c)).flatMap(({ spec }) =>
      [...(spec.initContainers ?? []), ...spec.containers]
        .map((ctr) => (ctr.command as string[] | undefined) ?? [])
        .filter((cmd) => cmd[0] === 'node' && !cmd.includes('-e') && !cmd.includes('--eval'))
        .map((cmd) => cmd.slice(1).find((arg) => !arg.startsWith('-'))!),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(existsSync(join(PROJECT_ROOT, file)), `${file} exists`).toBe(true);
      expect(IMAGE_PATHS.some((p) => file === p || file.startsWith(`${p}/`)), `${file} is in the image (${IMAGE_PATHS.join(', ')})`).toBe(true);
    }
  });

  it('gives every container CPU and memory requests and limits', () => {
    expect(podSpecs(out(major, c)).flatMap((p) => resourceViolations(p.owner.metadata.name, p.spec))).toEqual([]);
  });

  it('runs every pod under PodSecurity "restricted" (except the modes that document otherwise)', () => {
    const mode = valuesOf(c).udp.mode as string;
    const violations = podSpecs(out(major, c)).flatMap((p) => restrictedViolations(p.owner.metadata.name, p.spec));
    if (mode === 'hostPort' || mode === 'hostNetwork') {
      // Only the game servers may break it, and only by the host port / host network the mode is about.
      for (const v of violations) expect(v).toMatch(mode === 'hostPort' ? /-server(-canary)?\/server: hostPort \d+$/ : /-server(-canary)?(\/server)?: host(Network|Port \d+)$/);
      expect(violations.length).toBeGreaterThan(0);
    } else {
      expect(violations).toEqual([]);
    }
    expect(podSpecs(out(major, c)).flatMap((p) => writableRootViolations(p.owner.metadata.name, p.spec))).toEqual([]);
  });

  it('mounts no service account token, except the node reader token in the node-address init container', () => {
    for (const { owner, spec } of podsOf(major, c)) {
      expect(spec.automountServiceAccountToken, owner.metadata.name).toBe(false);
      const tokenVolumes = (spec.volumes ?? []).filter((v) => JSON.stringify(v).includes('serviceAccountToken')).map((v) => v.name);
      for (const ctr of [...(spec.initContainers ?? []), ...spec.containers]) {
        const mountsToken = (ctr.volumeMounts ?? []).some((m) => tokenVolumes.includes(m.name));
        expect(mountsToken, `${owner.metadata.name}/${ctr.name}`).toBe(ctr.name === 'node-address');
      }
    }
  });

  it("creates each install and upgrade hook pod's ServiceAccount before it: an earlier hook of the same events", () => {
    // Helm creates a release's ordinary objects only after its pre-install hooks, and the API server
    // refuses a pod whose ServiceAccount does not exist: the hook would never start.
    const events = (m: Manifest) => (m.metadata.annotations?.['helm.sh/hook'] ?? '').split(',').filter((e) => e && e !== 'test');
    const weight = (m: Manifest) => Number(m.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);
    const hookPods = podSpecs(out(major, c)).filter((p) => events(p.owner).length > 0);
    expect(hookPods.map((p) => p.owner.metadata.name)).toContain('game-mmo-migrate');
    for (const { owner, spec } of hookPods) {
      const account = out(major, c).find((m) => m.kind === 'ServiceAccount' && m.metadata.name === spec.serviceAccountName);
      expect(account, `ServiceAccount of ${owner.metadata.name}`).toBeDefined();
      expect(events(account!), `hook events of ${spec.serviceAccountName}`).toEqual(events(owner));
      expect(weight(account!), `hook weight of ${spec.serviceAccountName}`).toBeLessThan(weight(owner));
    }
  });

  it('probes the game servers on the contract health paths, and every data service', () => {
    for (const { owner, labels, spec } of podsOf(major, c)) {
      const main = spec.containers[0]!;
      if (isGameServer(labels)) {
        expect(JSON.stringify(main.livenessProbe)).toContain(PATHS.live);
        expect(JSON.stringify(main.readinessProbe)).toContain(PATHS.ready);
        expect(main.startupProbe, owner.metadata.name).toBeDefined();
      } else if (owner.kind === 'StatefulSet') {
        expect(main.livenessProbe, owner.metadata.name).toBeDefined();
        expect(main.readinessProbe, owner.metadata.name).toBeDefined();
      }
    }
  });

  it('labels every object with the standard labels and game server pods with their track', () => {
    for (const m of out(major, c)) {
      for (const key of [LABELS.name, LABELS.instance, LABELS.version, LABELS.component, LABELS.partOf, LABELS.managedBy]) {
        expect(m.metadata.labels?.[key], `${m.kind}/${m.metadata.name} ${key}`).toBeTruthy();
      }
    }
    const gamePods = podSpecs(out(major, c)).filter((p) => isGameServer(p.labels));
    expect(gamePods.length).toBe(valuesOf(c).canary.enabled ? 2 : 1);
    for (const p of gamePods) expect(TRACKS).toContain(p.labels[LABELS.track]);
  });

  it('selects every workload with a NetworkPolicy of its own (when policies are on)', () => {
    const policies = out(major, c).filter((m) => m.kind === 'NetworkPolicy');
    if (!valuesOf(c).networkPolicy.enabled) return void expect(policies).toEqual([]);
    const selectorOf = (p: Manifest) => (p.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels;
    const denyAll = policies.filter((p) => !('ingress' in (p.spec as object)) && !('egress' in (p.spec as object)));
    expect(denyAll).toHaveLength(1);
    for (const { owner, labels } of podsOf(major, c)) {
      expect(selects(selectorOf(denyAll[0]!), labels), `default deny selects ${owner.metadata.name}`).toBe(true);
      const own = policies.filter((p) => p !== denyAll[0] && selects(selectorOf(p), labels));
      expect(own.length, `a policy for ${owner.metadata.name}`).toBeGreaterThan(0);
    }
  });

  it('creates a PodDisruptionBudget and an autoscaler exactly when enabled, both on the stable game servers', () => {
    const v = valuesOf(c);
    const pdbs = out(major, c).filter((m) => m.kind === 'PodDisruptionBudget' && m.metadata.labels?.[LABELS.component] === COMPONENTS.gameServer);
    const hpas = out(major, c).filter((m) => m.kind === 'HorizontalPodAutoscaler');
    expect(pdbs).toHaveLength(v.gameServer.pdb.enabled ? 1 : 0);
    // A data store's PDB only when asked for, on its own single pod.
    for (const store of ['postgres', 'redis', 'rabbitmq'] as const) {
      const own = out(major, c).filter((m) => m.kind === 'PodDisruptionBudget' && m.metadata.labels?.[LABELS.component] === COMPONENTS[store]);
      expect(own, store).toHaveLength(v[store].enabled && v[store].pdb.enabled ? 1 : 0);
      for (const pdb of own) expect((pdb.spec as { minAvailable: number }).minAvailable).toBe(1);
    }
    expect(hpas).toHaveLength(v.gameServer.autoscaling.enabled ? 1 : 0);
    const stable = out(major, c).find((m) => m.kind === 'Deployment' && m.metadata.labels?.[LABELS.track] === 'stable')!;
    for (const pdb of pdbs) expect((pdb.spec as any).selector.matchLabels).toEqual((stable.spec as any).selector.matchLabels);
    for (const hpa of hpas) expect((hpa.spec as any).scaleTargetRef.name).toBe(stable.metadata.name);
    // With the autoscaler the chart still sets replicas: minReplicas on install (offline renders), so
    // `helm install --wait` waits for the capacity the release is sized for; unless setReplicas is
    // off (GitOps renders, where every sync would reset it): then the autoscaler alone owns it.
    const replicas = (stable.spec as { replicas?: number }).replicas;
    if (!v.gameServer.autoscaling.enabled) expect(replicas).toBeGreaterThan(0);
    else if (v.gameServer.autoscaling.setReplicas) expect(replicas).toBe((hpas[0]!.spec as { minReplicas: number }).minReplicas);
    else expect(stable.spec).not.toHaveProperty('replicas');
    // The canary's count is the chart's own in every case.
    const canary = out(major, c).find((m) => m.kind === 'Deployment' && m.metadata.labels?.[LABELS.track] === 'canary');
    if (canary) expect((canary.spec as { replicas?: number }).replicas).toBe(v.canary.replicas);
  });

  it('keeps every credential out of ConfigMaps and plain env values', () => {
    const manifests = out(major, c);
    const secretNames: string[] = Object.values(ENV).filter((s) => 'secret' in s && s.secret).map((s) => s.name);
    const secretValues = manifests
      .filter((m) => m.kind === 'Secret')
      .flatMap((m) => Object.values((m as { data?: Record<string, string> }).data ?? {}).map((b64) => Buffer.from(b64, 'base64').toString()));
    const passwords = secretValues.flatMap((s) => [s, ...[...s.matchAll(/:([A-Za-z0-9]{16,})@/g)].map((x) => x[1]!)]);
    // The search below needs values to find: every case generates some credential, unless each one
    // comes from the user's own Secret, and then the chart renders no Secret of its own at all.
    const v = valuesOf(c);
    const external = [v.gameServer.auth, v.gameServer.admin, v.postgres.auth, v.redis.auth, v.rabbitmq.auth].every((a) => a.existingSecret);
    if (external) expect(manifests.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name)).toEqual([]);
    else expect(passwords.length).toBeGreaterThan(0);
    for (const m of manifests.filter((x) => x.kind !== 'Secret')) {
      const text = JSON.stringify(m);
      for (const p of passwords) expect(text.includes(p), `${m.kind}/${m.metadata.name} holds a secret value`).toBe(false);
      if (m.kind === 'ConfigMap') for (const name of secretNames) expect(Object.keys((m as any).data ?? {})).not.toContain(name);
    }
    let credentials = 0;
    for (const { owner, spec } of podSpecs(manifests)) {
      for (const ctr of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const e of ctr.env ?? []) {
          if (secretNames.includes(e.name) || /PASS|SECRET|AUTH/.test(e.name)) {
            credentials++;
            expect(e.value, `${owner.metadata.name}/${ctr.name} ${e.name}`).toBeUndefined();
            expect(e.valueFrom, `${owner.metadata.name}/${ctr.name} ${e.name}`).toHaveProperty('secretKeyRef');
          }
        }
      }
    }
    // The game server reads its signing key and admin token at least: the loop above checked something.
    expect(credentials).toBeGreaterThan(0);
  });

  it('wires exactly contract/env.ts into the game server: each variable set as decided or left to its default, credentials only from Secrets, and the server accepts the result', () => {
    const manifests = out(major, c);
    const v = valuesOf(c);
    const byName = new Map<string, EnvKey>(Object.entries(ENV).map(([key, spec]) => [spec.name, key as EnvKey]));
    const rendered = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name) as { data?: Record<string, string> } | undefined;
    const users = userSecrets(v);
    const data: ObjectData = (kind, name) => {
      const m = rendered(kind, name);
      if (m) return kind === 'Secret' ? Object.fromEntries(Object.entries(m.data ?? {}).map(([k, b64]) => [k, Buffer.from(b64, 'base64').toString()])) : (m.data ?? {});
      return kind === 'Secret' ? users[name] : undefined;
    };
    const gamePods = podSpecs(manifests).filter((p) => isGameServer(p.labels));
    expect(gamePods.length).toBeGreaterThan(0);
    for (const { spec, labels } of gamePods) {
      const track = labels[LABELS.track];
      const server = spec.containers.find((x) => x.name === 'server')!;
      const env = resolveContainerEnv(server, data, { 'metadata.name': `game-mmo-server-5d8f9c7b6-${track}` });
      // Outside the contract: only what the studio added with gameServer.extraEnv.
      const extra = (v.gameServer.extraEnv as { name: string }[]).map((e) => e.name);
      expect(Object.keys(env).filter((n) => !byName.has(n) && !extra.includes(n)), `variables outside the contract on ${track}`).toEqual([]);
      const mismatches = Object.entries(ENV).flatMap(([key, s]) => {
        const want = WIRING[key as EnvKey](v);
        const got = env[s.name]?.source ?? 'unset';
        return want === got ? [] : [`${s.name}: wanted ${want}, got ${got}`];
      });
      expect(mismatches, `wiring on ${track}`).toEqual([]);
      for (const s of Object.values(ENV)) {
        if ('secret' in s && s.secret && env[s.name]) expect(env[s.name]!.source, `${s.name} on ${track}`).toBe('secret');
      }
      // The server's own validation, on exactly what the kubelet would hand it.
      const announce = env[ENV.udpAnnounceFile.name]?.value;
      const config = loadConfig(envValues(env), (path) => {
        if (path !== announce) throw new Error(`ENOENT: ${path}`);
        return '203.0.113.11\n';
      });
      expect(config.maxPlayers).toBe(v.capacity.playersPerPod);
      expect(config.publicUrl).toMatch(/^https?:\/\/[^/]+$/);
      expect(config.udpEnabled).toBe(v.udp.mode !== 'disabled');
    }
  });

  it('takes no credential the contract marks secret from anywhere but a Secret, in the contract table itself', () => {
    const v = valuesOf(c);
    for (const [key, s] of Object.entries(ENV)) {
      if ('secret' in s && s.secret) expect(['secret', 'unset'], s.name).toContain(WIRING[key as EnvKey](v));
    }
  });

  it('lets pods drain: grace period above the drain time, rollouts never below capacity', () => {
    const drain = Number(valuesOf(c).gameServer.config.drainSeconds);
    for (const d of out(major, c).filter((m) => m.kind === 'Deployment')) {
      const spec = d.spec as { strategy: { rollingUpdate: { maxUnavailable: number } }; template: { spec: PodSpec & { terminationGracePeriodSeconds: number } } };
      expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(drain);
    }
  });

  it('publishes not-ready game pods on the UDP Service only, so connected UDP players survive a data-store restart', () => {
    const services = out(major, c).filter((m) => m.kind === 'Service');
    const publishing = services.filter((m) => (m.spec as { publishNotReadyAddresses?: boolean }).publishNotReadyAddresses).map((m) => m.metadata.name);
    const headless = services.filter((m) => (m.spec as { clusterIP?: string }).clusterIP === 'None').map((m) => m.metadata.name);
    expect(publishing.sort()).toEqual([...headless, ...(valuesOf(c).udp.mode === 'nodePort' ? ['game-mmo-server-udp'] : [])].sort());
  });

  it('points every Service at pods that exist', () => {
    const manifests = out(major, c);
    const pods = podSpecs(manifests);
    for (const svc of manifests.filter((m) => m.kind === 'Service')) {
      const selector = (svc.spec as { selector: Record<string, string> }).selector;
      expect(pods.some((p) => selects(selector, p.labels)), `${svc.metadata.name} selects nothing`).toBe(true);
    }
  });
});

describe('rendering agrees between helm 3 and helm 4', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    // Generated passwords differ per render; everything else must be identical.
    const strip = (ms: Manifest[]) => JSON.stringify(ms.filter((m) => m.kind !== 'Secret'));
    expect(strip(out(3, c))).toBe(strip(out(4, c)));
  });
});
