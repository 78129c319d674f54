/**
 * The preflight checks of `mmoctl preflight`, `install` and `upgrade`, in the order they are shown.
 * Each is an assertion about the cluster or the values; docs/checks.md is generated from this list.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { BACKUP_KINDS, OPERATIONS_KINDS } from '../../contract/kubernetes.ts';
import { LABELS } from '../../contract/labels.ts';
import { renderError } from '../ui/problems.ts';
import { KubeError, kubeHint, type Kube } from '../kube/kube.ts';
import { formatCpu, formatMemory, objectName, podRequests, podTemplates, type Manifest, type PodTemplate } from '../manifests.ts';
import { readChartMeta } from '../package.ts';
import { PLAIN } from '../ui/style.ts';
import { chartValues, DATA_SERVICES, podSecurityLevel, udpPerNode, udpPlayerPort, type ChartValues } from '../values/view.ts';
import { describeDenied, releaseNeeds } from './access.ts';
import { nodeRooms, place, totals, type Demand } from './capacity.ts';
import type { PreflightContext } from './context.ts';
import { CheckFailed, Inconclusive, type Category, type CheckOutcome } from './runner.ts';

const PENDING = /^pending-/;
const skip = (message: string): CheckOutcome => ({ status: 'skip', message });
const warn = (message: string): CheckOutcome => ({ status: 'warn', message });

/** Reads the values once the values check passed. */
async function values(ctx: PreflightContext): Promise<ChartValues> {
  return chartValues(await ctx.values());
}

/** Reads what a check needs; when the user may not, the check ends as a warning, not a failure. */
async function readable<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof KubeError && err.status === 403) throw new Inconclusive('warn', `not checked: you may not ${what}; an admin can run this check`);
    throw err;
  }
}

/**
 * Which of `kinds` (`group/version/Kind`, as contract/kubernetes.ts lists them) the cluster serves:
 * `found` by kind, `lacking` as `Kind (group/version)`, both in the order given.
 */
async function servedKinds(kube: Kube, kinds: readonly string[]): Promise<{ found: string[]; lacking: string[] }> {
  const found: string[] = [];
  const lacking: string[] = [];
  for (const k of kinds) {
    const slash = k.lastIndexOf('/');
    const [apiVersion, kind] = [k.slice(0, slash), k.slice(slash + 1)];
    if (await kube.resource(apiVersion, kind)) found.push(kind);
    else lacking.push(`${kind} (${apiVersion})`);
  }
  return { found, lacking };
}

export const PREFLIGHT: readonly Category<PreflightContext>[] = [
  {
    id: 'tools',
    title: 'tools',
    checkers: [
      {
        id: 'helm.version',
        description: 'helm is installed and supported (3.14+ or 4.x)',
        explain:
          'mmoctl runs the real helm binary for every render and release operation; helm 3.14 and 4.x behave as mmoctl expects. Install helm, or point mmoctl at one with `--helm PATH` or `MMOCTL_HELM`.',
        severity: 'fatal',
        async check(ctx) {
          const h = await ctx.helm();
          return `${h.binary.version} at ${h.binary.path}`;
        },
      },
    ],
  },
  {
    id: 'values',
    title: 'values',
    checkers: [
      {
        id: 'values.valid',
        description: 'the values are valid (schema and the chart\'s rules)',
        explain:
          "Values are checked offline first: the chart's schema (types, ranges, allowed values, unknown keys) and the chart's own rules between values. Each problem names the key, where it was written (`file:line:col` or the `--set`) and a fix; `mmoctl values validate` shows the same list.",
        severity: 'fatal',
        needs: ['helm.version'],
        async check(ctx) {
          const v = await ctx.validated();
          if (v.problems.length) throw new CheckFailed(renderError(`${v.problems.length} ${v.problems.length === 1 ? 'problem' : 'problems'}:`, undefined, v.problems, PLAIN).replace(/^Error: /, '').trimEnd());
        },
      },
    ],
  },
  {
    id: 'cluster',
    title: 'cluster',
    checkers: [
      {
        id: 'cluster.api',
        description: 'the Kubernetes API server answers',
        explain:
          "Everything else needs the API server. When it fails, the message tells an unreachable server (wrong context, VPN, cluster down) from refused credentials (expired tokens: log in again with your cloud's CLI).",
        severity: 'fatal',
        async check(ctx) {
          const kube = await ctx.kube();
          try {
            const v = await kube.version();
            return `${kube.identity.server} (context ${kube.identity.context}), Kubernetes ${v.gitVersion}`;
          } catch (err) {
            if (err instanceof KubeError) throw new CheckFailed(`${err.message}. ${kubeHint(err, kube.identity)}`);
            throw err;
          }
        },
      },
      {
        id: 'cluster.version',
        description: 'the cluster runs a Kubernetes version the chart supports',
        explain:
          'The chart declares the Kubernetes versions it supports (`kubeVersion` in Chart.yaml); outside them its objects may use APIs the cluster does not serve.',
        severity: 'fatal',
        needs: ['cluster.api'],
        async check(ctx) {
          const v = await (await ctx.kube()).version();
          const range = readChartMeta(ctx.input.chart.dir).kubeVersion;
          if (!range) return `${v.gitVersion}; the chart names no range`;
          const { default: semver } = await import('semver');
          const version = semver.coerce(v.gitVersion);
          if (!version || !semver.satisfies(version, range, { includePrerelease: true })) {
            throw new CheckFailed(`the cluster runs ${v.gitVersion}; the chart supports ${range}. Upgrade the cluster, or use a chart release that supports it.`);
          }
          return `${v.gitVersion}, inside ${range}`;
        },
      },
      {
        id: 'cluster.namespace',
        description: 'the namespace exists, or will be created',
        explain:
          'The release lives in one namespace. `install --create-namespace` creates it with Pod Security labels that match the values (`restricted`, or `privileged` for the host UDP modes).',
        severity: 'fatal',
        needs: ['cluster.api'],
        async check(ctx) {
          const ns = await readable(`read namespace ${ctx.ref.namespace}`, () => ctx.namespace());
          if (!ns) {
            if (ctx.input.createNamespace) return `${ctx.ref.namespace} will be created`;
            throw new CheckFailed(`namespace ${ctx.ref.namespace} does not exist. Add --create-namespace to create it (with Pod Security labels matching the values), or choose another with -n.`);
          }
          const level = ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
          return `${ctx.ref.namespace}${level ? `, Pod Security "${level}" enforced` : ''}`;
        },
      },
      {
        id: 'release.state',
        description: 'the release is not in the middle of, or stuck after, another operation',
        explain:
          'A release left `pending-install`, `pending-upgrade` or `pending-rollback` by an interrupted helm blocks every new operation. If nothing else is running, `mmoctl rollback` (or `mmoctl install` again, which does it for you) repairs it. A `failed` release only warns: the next upgrade replaces it.',
        severity: 'fatal',
        needs: ['helm.version', 'cluster.api'],
        async check(ctx) {
          const rel = await ctx.release();
          if (!rel) return 'no release yet: it will be installed';
          if (PENDING.test(rel.status)) {
            if (ctx.input.repairsPending) return warn(`release ${rel.name} is ${rel.status} at revision ${rel.revision} (${rel.description || 'an operation was interrupted'}): it is repaired first`);
            throw new CheckFailed(
              `release ${rel.name} is ${rel.status} at revision ${rel.revision} (${rel.description || 'an operation was interrupted'}). ` +
                `If no other install or upgrade is running, repair it with \`mmoctl rollback\` (or run install again, which does that for you).`,
            );
          }
          if (rel.status === 'failed') return warn(`the last operation failed at revision ${rel.revision} (${rel.description}); the next upgrade replaces it`);
          return `revision ${rel.revision} is ${rel.status} (${rel.chart}, game server ${rel.appVersion})`;
        },
      },
    ],
  },
  {
    id: 'permissions',
    title: 'permissions',
    checkers: [
      {
        id: 'rbac.release',
        description: 'you may create, change and delete everything the release holds',
        explain:
          'Asked of the API server with SelfSubjectAccessReview for every kind the rendered release holds (create, get, patch, delete), where helm keeps its records (Secrets), what `--wait` watches, and the namespace when it is to be created. A missing permission is named with its verb, resource and namespace (or "cluster-wide" for ClusterRoles, which the per-node UDP modes create).',
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const [rendered, resources, kube] = await Promise.all([ctx.rendered(), ctx.resources(), ctx.kube()]);
          const missing = await ctx.namespace().then((ns) => !ns, () => false);
          const needs = releaseNeeds([...rendered.objects, ...rendered.hooks], ctx.ref.namespace, resources, { createNamespace: ctx.input.createNamespace && missing });
          const answers = await kube.canI(needs);
          const denied = describeDenied(answers.map((a, i) => ({ ...a, why: needs[i]!.why })));
          if (denied.length) throw new CheckFailed(`${kube.identity.user || 'this user'} may not:\n${denied.map((d) => `  - ${d}`).join('\n')}\nGrant these (a Role in the namespace, a ClusterRole for cluster-wide kinds) or use a context that has them.`);
          return `${needs.length} permissions checked${rendered.note ? `; ${rendered.note}` : ''}`;
        },
      },
      {
        id: 'rbac.read',
        description: "you may read what status and these checks read (nodes, pods and Services cluster-wide; the release's endpoints, autoscaler and events)",
        explain:
          'Capacity, UDP port and node address checks, and parts of `mmoctl status`, read nodes, pods and Services across the cluster. Without these permissions those checks are skipped with a warning; an admin can run them.',
        severity: 'warning',
        needs: ['cluster.api'],
        async check(ctx) {
          const kube = await ctx.kube();
          const ns = ctx.ref.namespace;
          const qs = [
            { verb: 'list', group: '', resource: 'nodes' },
            { verb: 'list', group: '', resource: 'pods' },
            { verb: 'list', group: '', resource: 'services' },
            // What `mmoctl status` reads besides the workloads helm already needs.
            { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices', namespace: ns },
            { verb: 'list', group: 'autoscaling', resource: 'horizontalpodautoscalers', namespace: ns },
            { verb: 'list', group: 'policy', resource: 'poddisruptionbudgets', namespace: ns },
            { verb: 'list', group: '', resource: 'events', namespace: ns },
          ];
          const denied = describeDenied(await kube.canI(qs));
          if (denied.length) throw new CheckFailed(`the capacity and UDP checks and parts of \`mmoctl status\` need these and will be skipped: ${denied.join('; ')}`);
        },
      },
    ],
  },
  {
    id: 'admission',
    title: 'admission',
    checkers: [
      {
        id: 'admission.dry-run',
        description: 'the API server accepts every object of the release (server-side dry run)',
        explain:
          "Every object is sent to the API server with `dryRun=All` (server-side apply), and every workload's pod as it would be created, so defaulting, validation and admission run for real: Pod Security, quotas, LimitRanges, webhooks, immutable fields on upgrade, node ports already allocated. Nothing is changed. Skipped while the namespace does not exist yet.",
        severity: 'fatal',
        needs: ['values.valid', 'cluster.namespace', 'rbac.release'],
        async check(ctx) {
          const [rendered, kube, resources] = await Promise.all([ctx.rendered(), ctx.kube(), ctx.resources()]);
          const namespace = await ctx.namespace().then((ns) => (ns ? 'exists' : 'missing'), () => 'unknown');
          // Kinds the cluster does not serve are the CRD check's to report.
          const all = [...rendered.objects, ...rendered.hooks].filter((o) => resources.has(`${o.apiVersion}/${o.kind}`));
          const namespaced = all.filter((o) => o.metadata.namespace);
          if (namespace === 'missing') return skip(`namespace ${ctx.ref.namespace} does not exist yet: the API server checks the ${all.length} objects when install creates them`);
          const failures: string[] = [];
          const tryIt = async (what: string, fn: () => Promise<void>) => {
            try {
              await fn();
            } catch (err) {
              failures.push(`${what}: ${err instanceof KubeError ? err.message.replace(/^cannot [^:]*: /, '') : String(err)}`);
            }
          };
          await Promise.all([
            ...rendered.objects.filter((o) => all.includes(o)).map((o) => tryIt(objectName(o), () => kube.dryRunApply(o))),
            // helm deletes a hook and creates it anew on every run: try a fresh copy, not a change to the last one.
            ...rendered.hooks.filter((o) => all.includes(o)).map((o) => tryIt(objectName(o), () => kube.dryRunCreate({ ...o, metadata: { ...o.metadata, name: `${o.metadata.name}-preflight`.slice(0, 63) } }))),
            // Pod Security is enforced on pods, not on the workloads that create them: try each pod as it would be created.
            ...podTemplates(namespaced).map((t) => tryIt(`a pod of ${objectName(t.owner)}`, () => kube.dryRunCreate(podOf(t, all, ctx.ref.namespace)))),
          ]);
          if (failures.length) throw new CheckFailed(`the API server refuses ${failures.length} of them:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
          return `${all.length} objects and ${podTemplates(namespaced).length} pods accepted${rendered.note ? `; ${rendered.note}` : ''}`;
        },
      },
    ],
  },
  {
    id: 'dependencies',
    title: 'what the values need from the cluster',
    checkers: [
      {
        id: 'cluster.crds',
        description: 'the cluster serves the kinds the values need (ServiceMonitor, PrometheusRule)',
        explain:
          "The monitoring values create prometheus-operator's ServiceMonitor and PrometheusRule. Install its CRDs first (kube-prometheus-stack does), or turn the toggles off as the message says.",
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const v = await values(ctx);
          const wanted = [
            { on: v.monitoring.serviceMonitor.enabled, kind: 'ServiceMonitor', key: 'monitoring.serviceMonitor.enabled' },
            { on: v.monitoring.prometheusRule.enabled, kind: 'PrometheusRule', key: 'monitoring.prometheusRule.enabled' },
          ].filter((w) => w.on);
          if (!wanted.length) return skip('monitoring is off: no custom kinds needed');
          const { found } = await servedKinds(await ctx.kube(), wanted.map((w) => `monitoring.coreos.com/v1/${w.kind}`));
          const missing = wanted.filter((w) => !found.includes(w.kind));
          if (missing.length) {
            throw new CheckFailed(
              `the cluster has no ${missing.map((m) => m.kind).join(' or ')} kind (monitoring.coreos.com/v1): prometheus-operator's CRDs are not installed. ` +
                `Install them (for example with the kube-prometheus-stack chart), or turn it off: ${missing.map((m) => `--set ${m.key}=false`).join(' ')}`,
            );
          }
          return wanted.map((w) => w.kind).join(', ');
        },
      },
      {
        id: 'cluster.operations-crds',
        description: 'the cluster serves the kinds of the operations switches that are on (KEDA, VPA, Istio, Velero)',
        explain:
          "`gameServer.autoscaling.keda.enabled` creates KEDA's ScaledObject (and a TriggerAuthentication for the queue trigger), `vpa.enabled` VerticalPodAutoscalers, `mesh.istio.enabled` Istio's PeerAuthentication, DestinationRule and VirtualService, `backup.velero.enabled` Velero's Schedule. Each needs its project installed with its CRDs (KEDA's chart kedacore/keda, the Vertical Pod Autoscaler, istioctl or Istio's base chart, Velero's chart or CLI), or the switch turned off as the message says.",
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const v = await values(ctx);
          const switches = { ...OPERATIONS_KINDS, ...BACKUP_KINDS };
          const on = { keda: v.gameServer.autoscaling?.keda?.enabled, vpa: v.vpa?.enabled, istio: v.mesh?.istio?.enabled, velero: v.backup?.velero?.enabled };
          const wanted = (Object.keys(switches) as (keyof typeof switches)[]).filter((k) => on[k]).map((k) => switches[k]);
          if (!wanted.length) return skip('KEDA, VPA, the mesh and Velero backups are off: no custom kinds needed');
          const kube = await ctx.kube();
          const missing: string[] = [];
          const found: string[] = [];
          for (const w of wanted) {
            const served = await servedKinds(kube, w.kinds);
            found.push(...served.found);
            if (served.lacking.length) missing.push(`${w.project} (${served.lacking.join(', ')}): install it, or --set ${w.key}=false`);
          }
          if (missing.length) throw new CheckFailed(`the cluster lacks the kinds of ${missing.join('; ')}`);
          return found.join(', ');
        },
      },
      {
        id: 'cluster.storage',
        description: 'a StorageClass serves the data services\' volumes',
        explain:
          'Bundled PostgreSQL, Redis and RabbitMQ keep their data on volumes. A named StorageClass must exist; with none named, the cluster needs a default one, or the volumes stay Pending and the pods never start.',
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const v = await values(ctx);
          const bundled = DATA_SERVICES.filter((s) => v[s].enabled);
          if (!bundled.length) return skip('no bundled data service: no volumes');
          const classes = await readable('list StorageClasses', async () => (await ctx.kube()).list('StorageClass'));
          const dflt = classes.find((c) => c.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
          const problems: string[] = [];
          const used = new Set<string>();
          for (const s of bundled) {
            const name = v[s].persistence?.storageClass;
            if (name) {
              if (!classes.some((c) => c.metadata?.name === name)) problems.push(`${s}.persistence.storageClass is "${name}", which does not exist (classes: ${classes.map((c) => c.metadata?.name).join(', ') || 'none'})`);
              else used.add(name);
            } else if (!dflt) problems.push(`${s}.persistence.storageClass is empty and the cluster has no default StorageClass: its volume would stay Pending. Fix: --set ${s}.persistence.storageClass=<class>`);
            else used.add(`${dflt.metadata?.name} (default)`);
          }
          if (problems.length) throw new CheckFailed(problems.join('\n'));
          return [...used].join(', ');
        },
      },
      {
        id: 'cluster.ingress-class',
        description: 'the IngressClass of the Ingress exists',
        explain:
          "With the Ingress on, a named IngressClass must exist; with none named, a default IngressClass must, or no controller serves the game's HTTP and WebSocket traffic.",
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const v = await values(ctx);
          if (!v.ingress.enabled) return skip('ingress is off');
          const classes = await readable('list IngressClasses', async () => (await ctx.kube()).list('IngressClass'));
          const name = v.ingress.className;
          if (name) {
            if (!classes.some((c) => c.metadata?.name === name)) throw new CheckFailed(`ingress.className is "${name}", which does not exist (classes: ${classes.map((c) => c.metadata?.name).join(', ') || 'none'}).`);
            return name;
          }
          const dflt = classes.find((c) => c.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
          if (!dflt) return warn(`ingress.className is empty and no IngressClass is the default: no controller may serve the Ingress. Fix: --set ingress.className=<one of: ${classes.map((c) => c.metadata?.name).join(', ') || 'none installed'}>`);
          return `${dflt.metadata?.name} (default)`;
        },
      },
      {
        id: 'external.services',
        description: 'external data services have their connection Secrets',
        explain:
          "With a bundled data service turned off, the game servers read its URL from a Secret you create (`<service>.external.existingSecret`, key `existingSecretKey`). The Secret must exist in the release's namespace before install.",
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const v = await values(ctx);
          const external = DATA_SERVICES.filter((s) => !v[s].enabled);
          if (!external.length) return skip('PostgreSQL, Redis and RabbitMQ are bundled');
          const kube = await ctx.kube();
          const problems: string[] = [];
          for (const s of external) {
            const name = v[s].external?.existingSecret ?? '';
            const key = v[s].external?.existingSecretKey ?? 'url';
            const secret = await kube.get('Secret', name, ctx.ref.namespace).catch((err: unknown) => {
              if (err instanceof KubeError && err.status === 403) return 'forbidden' as const;
              throw err;
            });
            if (secret === 'forbidden') problems.push(`${s}: you may not read Secret ${name} to check it`);
            else if (!secret) problems.push(`${s}.external.existingSecret: Secret ${name} does not exist in ${ctx.ref.namespace}. Fix: kubectl -n ${ctx.ref.namespace} create secret generic ${name} --from-literal=${key}=<url>`);
            else if (!secret.data?.[key] && !secret.stringData?.[key]) problems.push(`${s}.external.existingSecretKey: Secret ${name} has no key "${key}" (keys: ${Object.keys(secret.data ?? {}).join(', ') || 'none'})`);
          }
          if (problems.length) throw new CheckFailed(problems.join('\n'));
          return external.map((s) => `${s} at ${v[s].external?.host}`).join(', ');
        },
      },
    ],
  },
  {
    id: 'capacity',
    title: 'capacity',
    checkers: [
      {
        id: 'capacity.fit',
        description: 'the nodes have room for the release (its pods, one rollout surge pod, next to what already runs)',
        explain:
          "The release's pods are placed on the nodes' free room (allocatable minus what running pods request) the way the scheduler would: requests, node selectors, taints, and one game server per node where the values require it (`gameServer.spread.mode: required` and the per-node UDP modes). One extra game server is counted for the rolling update surge. Pods of the release itself are not counted as used, so an upgrade is judged on what it replaces.",
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const rendered = await ctx.rendered();
          const nodes = await readable('list nodes', () => ctx.nodes());
          const pods = await readable('list pods in every namespace', () => ctx.allPods());
          const demands = releaseDemands(rendered.objects, rendered.hooks, await values(ctx));
          const rooms = nodeRooms(nodes, pods, (p: V1Pod) => ctx.ours(p));
          const placement = place(rooms, demands);
          const t = totals(rooms, demands);
          const sums = `the release requests ${formatCpu(t.need.cpu)} CPU and ${formatMemory(t.need.memory)}; ${rooms.filter((n) => n.schedulable).length} schedulable nodes have ${formatCpu(t.free.cpu)} CPU and ${formatMemory(t.free.memory)} free`;
          if (placement.unplaced.length) {
            const counts = new Map<string, number>();
            for (const u of placement.unplaced) counts.set(`${u.workload}\u0000${u.reason}`, (counts.get(`${u.workload}\u0000${u.reason}`) ?? 0) + 1);
            const lines = [...counts].map(([k, n]) => {
              const [workload, reason] = k.split('\u0000');
              return `${workload} (${n} ${n === 1 ? 'pod' : 'pods'}): ${reason}`;
            });
            throw new CheckFailed(`${placement.unplaced.length} ${placement.unplaced.length === 1 ? 'pod' : 'pods'} would not be scheduled:\n${lines.map((l) => `  - ${l}`).join('\n')}\n${sums}. Add nodes, or lower requests or replicas.`);
          }
          return sums;
        },
      },
    ],
  },
  {
    id: 'udp',
    title: 'players over UDP',
    checkers: [
      {
        id: 'udp.addresses',
        description: 'the nodes have the address the game servers announce to UDP players',
        explain:
          "In the nodePort, hostPort and hostNetwork modes each game server announces its node's address (`udp.announce.addressTypes`, first match wins) to UDP players. A node without such an address cannot run a game server.",
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const v = await values(ctx);
          if (!udpPerNode(v.udp.mode)) return skip(`udp.mode is ${v.udp.mode}: no node address is announced`);
          const nodes = await readable('list nodes', () => ctx.nodes());
          const types = v.udp.announce.addressTypes;
          const lacking = nodes.filter((n) => !(n.status?.addresses ?? []).some((a) => types.includes(a.type)));
          if (lacking.length === nodes.length) {
            throw new CheckFailed(`no node has an address of type ${types.join(' or ')}: every game server would fail to start. Fix: --set-json 'udp.announce.addressTypes=["ExternalIP","InternalIP"]' if players reach the nodes' internal addresses, or give the nodes external addresses.`);
          }
          if (lacking.length) return warn(`${lacking.map((n) => n.metadata?.name).join(', ')} ${lacking.length === 1 ? 'has' : 'have'} no ${types.join('/')} address: a game server there would not start`);
          return `${nodes.length} nodes have ${types.join(' or ')} addresses`;
        },
      },
      {
        id: 'udp.port',
        description: 'the players\' UDP port is free on the nodes',
        explain:
          'Players send UDP to one port on every node: the node port (nodePort mode), which no other Service may hold, or the host port (hostPort, hostNetwork), which no other pod may declare. Processes on the nodes themselves cannot be seen from the API.',
        severity: 'fatal',
        needs: ['values.valid', 'cluster.api'],
        async check(ctx) {
          const v = await values(ctx);
          if (!udpPerNode(v.udp.mode)) return skip(`udp.mode is ${v.udp.mode}`);
          const port = udpPlayerPort(v);
          if (v.udp.mode === 'nodePort') {
            const services = await readable('list Services in every namespace', () => ctx.allServices());
            const takers = services.filter((s) => !ctx.ours(s) && (s.spec?.ports ?? []).some((p) => p.nodePort === port));
            if (takers.length) throw new CheckFailed(`node port ${port} is taken by Service ${takers.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).join(', ')}. Fix: --set udp.nodePort=<another port in 30000-32767>`);
            const clash = v.service.nodePort === port ? ' (and service.nodePort is the same number: choose another)' : '';
            if (clash) throw new CheckFailed(`udp.nodePort ${port} equals service.nodePort${clash}`);
            return `node port ${port}/UDP is free`;
          }
          const pods = await readable('list pods in every namespace', () => ctx.allPods());
          const takers = pods.filter((p) => !ctx.ours(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && (p.spec?.containers ?? []).some((c) => (c.ports ?? []).some((cp) => cp.hostPort === port && (cp.protocol ?? 'TCP') === 'UDP')));
          if (takers.length) throw new CheckFailed(`host port ${port}/UDP is used by ${takers.map((p) => `${p.metadata?.namespace}/${p.metadata?.name} on ${p.spec?.nodeName}`).join(', ')}. Fix: --set udp.port=<another port>`);
          return `host port ${port}/UDP is not declared by any other pod${v.udp.mode === 'hostNetwork' ? ' (processes on the nodes themselves cannot be seen from the API)' : ''}`;
        },
      },
      {
        id: 'udp.pod-security',
        description: 'the namespace\'s Pod Security level allows the UDP mode',
        explain:
          'The hostPort and hostNetwork modes need Pod Security `privileged`; `baseline` and `restricted` forbid host ports and host networking, and the API server would refuse every game server pod. The nodePort mode passes `restricted`.',
        severity: 'fatal',
        needs: ['values.valid', 'cluster.namespace'],
        async check(ctx) {
          const v = await values(ctx);
          const need = podSecurityLevel(v);
          const ns = await ctx.namespace().catch(() => undefined);
          if (!ns) return `${ctx.ref.namespace} will be created with Pod Security "${need}"`;
          const level = ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'] ?? 'privileged';
          if (need === 'privileged' && level !== 'privileged') {
            throw new CheckFailed(`udp.mode ${v.udp.mode} needs host ${v.udp.mode === 'hostPort' ? 'ports' : 'networking'}, which Pod Security "${level}" (enforced on ${ctx.ref.namespace}) forbids. Fix: --set udp.mode=nodePort (passes restricted), or label the namespace: kubectl label namespace ${ctx.ref.namespace} pod-security.kubernetes.io/enforce=privileged --overwrite`);
          }
          return `${v.udp.mode} passes "${level}"`;
        },
      },
    ],
  },
];

/**
 * The pod a workload would create, for a dry-run create that Pod Security admission judges. Volume
 * claim templates become the claims the StatefulSet would make; a ServiceAccount the release itself
 * creates is not there yet, so the pod uses the default one (admission of the account itself is the
 * ServiceAccount's own dry run).
 */
export function podOf(t: PodTemplate, releaseObjects: readonly Manifest[], namespace: string): KubernetesObject {
  const spec = { ...t.template.spec };
  const claims = ((t.owner.spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] } | undefined)?.volumeClaimTemplates ?? []).map((c) => c.metadata?.name ?? 'data');
  if (claims.length) spec.volumes = [...(spec.volumes ?? []), ...claims.map((name) => ({ name, persistentVolumeClaim: { claimName: `${name}-${t.owner.metadata.name}-0` } }))];
  if (spec.serviceAccountName && releaseObjects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === spec.serviceAccountName)) {
    delete spec.serviceAccountName;
    spec.automountServiceAccountToken = false;
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${t.owner.metadata.name}-preflight`.slice(0, 63), namespace, labels: t.template.metadata?.labels }, spec } as KubernetesObject;
}

/**
 * The pods the release needs room for: every workload at its replica count (the autoscaler's minimum
 * for the game servers), the migration Job, and one surge pod of the game servers for rollouts.
 */
export function releaseDemands(objects: readonly Manifest[], hooks: readonly Manifest[], v: ChartValues): Demand[] {
  const hpaMin = new Map(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((h) => [String((h.spec as { scaleTargetRef?: { name?: string } }).scaleTargetRef?.name), Number((h.spec as { minReplicas?: number }).minReplicas ?? 1)]));
  return podTemplates([...objects, ...hooks]).map((t) => {
    const spec = t.template.spec;
    const anti = spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.find((a) => a.topologyKey === 'kubernetes.io/hostname');
    const isGame = t.owner.kind === 'Deployment' && t.template.metadata?.labels?.[LABELS.component] === 'game-server';
    const stable = isGame && t.template.metadata?.labels?.[LABELS.track] !== 'canary';
    const base = Math.max(t.replicas, hpaMin.get(t.owner.metadata.name) ?? 0);
    return {
      workload: objectName(t.owner),
      pods: base + (stable ? (v.gameServer.rollingUpdate?.maxSurge ?? 1) : 0),
      perPod: podRequests(spec),
      onePerNodeGroup: anti ? JSON.stringify(anti.labelSelector) : undefined,
      nodeSelector: spec.nodeSelector,
      tolerations: spec.tolerations,
    };
  });
}
