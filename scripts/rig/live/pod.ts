/**
 * One process pod, run the way a kubelet runs it:
 *
 * 1. the sandbox: a network namespace `<netnsPrefix><uid>` wired by the CNI plugins (cni.ts), its
 *    hostPorts mapped on the node's addresses; then the pod's volumes (volumes.ts);
 * 2. init containers one after the other, each to completion; then every container;
 * 3. each container is a process of this checkout (`ip netns exec` → its own mount namespace with
 *    the pod's volumes bound → the pod spec's command/args, cwd = the checkout, environment resolved
 *    from the spec), its output appended to `<pod dir>/logs/<container>/<restart>.log`;
 * 4. startup, liveness and readiness probes as declared (probes.ts); a failed liveness or startup
 *    probe kills the container; exits are restarted per `restartPolicy` with back-off (waiting as
 *    CrashLoopBackOff meanwhile);
 * 5. the status (phase, conditions, podIP, container states, restart counts) written to the API
 *    server after every change, plus the kubelet's events (Started, Killing, Unhealthy, BackOff);
 * 6. on deletion: SIGTERM to every process group, up to the grace period, SIGKILL, the network torn
 *    down, and the pod object removed.
 *
 * What it does not do: images (the checkout is the image), users and capabilities (processes run
 * as root), resource limits, preStop hooks, sidecar init containers, exec into containers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as k8s from '@kubernetes/client-node';
import { attach, detach, nodePortAddresses, type Attachment, type PortMapping } from './cni.ts';
import { envValues, expandReferences, resolveContainerEnv, UnresolvedEnvError } from './env.ts';
import { containerArgv, type ImageConfig } from './image.ts';
import type { RigNode } from '../cluster.ts';
import { ip, type NetworkPlan } from './network.ts';
import { execInNetns, probeTiming, runProbe } from './probes.ts';
import { makeVolumes, mountScript, podField, VolumeError, type VolumeSources } from './volumes.ts';

/** Label that makes the live rig run a pod's containers as processes. */
export const RUN_LABEL = 'mmo.dev/rig-run';
export const RUN_PROCESS = 'process';
/** Annotation (or label) of the rig's injected faults. */
export const FAULT_KEY = 'mmo.dev/rig-fault';
/** Faults with a preload for the containers of a process pod (scripts/rig/live/faults/<fault>.ts). */
export const PROCESS_FAULTS = ['crashloop', 'never-ready', 'slow', 'fail'] as const;

/** What the pod runner needs from the API server. */
export interface KubeletApi extends VolumeSources {
  /** Replaces the pod's status with `status` (a merge patch of `status`); ignores a pod that is gone. */
  patchStatus(pod: k8s.V1Pod, status: k8s.V1PodStatus): Promise<void>;
  /** Removes the pod object at once (grace 0, this UID only), as a kubelet does once its containers are gone. */
  deletePod(pod: k8s.V1Pod): Promise<void>;
  /** Records an event about the pod (repeats of one are counted on one object). */
  event(pod: k8s.V1Pod, type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void;
}

export interface KubeletContext {
  readonly plan: NetworkPlan;
  /** Where each pod gets `<namespace>_<name>_<uid>/` (volumes, logs, sandbox record). */
  readonly podsDir: string;
  /** host-local's leases. */
  readonly ipamDir: string;
  readonly checkout: string;
  readonly image: ImageConfig;
  /** Where a pod reaches the API server (KUBERNETES_SERVICE_HOST/PORT). */
  readonly apiServer: { readonly host: string; readonly port: number };
  readonly api: KubeletApi;
  /** Restart back-off: first delay, doubling up to max. */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly log: (line: string) => void;
}

/** What `<pod dir>/sandbox.json` records, so a sandbox can be torn down after a kubelet restart. */
export interface SandboxRecord extends Attachment {
  readonly namespace: string;
  readonly name: string;
}

interface Run {
  readonly spec: k8s.V1Container;
  readonly init: boolean;
  restartCount: number;
  state: k8s.V1ContainerState;
  lastState?: k8s.V1ContainerState;
  ready: boolean;
  started: boolean;
  containerID?: string;
  child?: ChildProcess;
  exited?: Promise<number>;
  stopProbes?: () => void;
  /** Back-off steps of quick consecutive failures. */
  failures: number;
}

const now = () => new Date();

/** The fault of a pod (annotation first, then label), if any. */
export function podFault(pod: k8s.V1Pod): string | undefined {
  return pod.metadata?.annotations?.[FAULT_KEY] ?? pod.metadata?.labels?.[FAULT_KEY];
}

/** Exit code of a process ended by a signal, as container runtimes report it (128 + signal number). */
function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGABRT: 6, SIGSEGV: 11 };
  return 128 + (signal ? (numbers[signal] ?? 1) : 1);
}

export class PodRunner {
  pod: k8s.V1Pod;
  readonly #ctx: KubeletContext;
  readonly #dir: string;
  readonly #node: RigNode;
  readonly #runs: Run[];
  readonly #abort = new AbortController();
  #podIP = '';
  #sandbox?: SandboxRecord;
  #volumes = new Map<string, string>();
  #initialized = false;
  #phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' = 'Pending';
  #message?: string;
  readonly #transitions = new Map<string, { status: string; at: Date }>();
  #writing?: Promise<void>;
  #dirty = false;
  #terminating?: Promise<void>;
  readonly #startTime = now();

  constructor(ctx: KubeletContext, pod: k8s.V1Pod, node: RigNode) {
    this.#ctx = ctx;
    this.pod = pod;
    this.#node = node;
    const m = pod.metadata!;
    this.#dir = join(ctx.podsDir, `${m.namespace}_${m.name}_${m.uid}`);
    const waiting = { waiting: { reason: 'PodInitializing' } };
    this.#runs = [
      ...(pod.spec?.initContainers ?? []).map((spec) => ({ spec, init: true, restartCount: 0, state: waiting, ready: false, started: false, failures: 0 })),
      ...(pod.spec?.containers ?? []).map((spec) => ({ spec, init: false, restartCount: 0, state: waiting, ready: false, started: false, failures: 0 })),
    ];
  }

  get uid(): string {
    return this.pod.metadata!.uid!;
  }

  get netns(): string {
    return `${this.#ctx.plan.netnsPrefix}${this.uid}`;
  }

  /** The directory holding the pod's logs: `<container>/<restart>.log`. */
  get logsDir(): string {
    return join(this.#dir, 'logs');
  }

  /** Restart count of a container (which `<n>.log` is current). */
  restartCount(container: string): number | undefined {
    return this.#runs.find((r) => r.spec.name === container)?.restartCount;
  }

  /** Runs the pod until it completes or is terminated. Never rejects. */
  async run(): Promise<void> {
    try {
      if (this.pod.spec?.hostNetwork) {
        this.#message = 'hostNetwork pods do not run as processes on the rig: its three nodes share one kernel (use udp.mode=hostPort)';
        for (const r of this.#runs) r.state = { waiting: { reason: 'CreateContainerError', message: this.#message } };
        this.#ctx.api.event(this.pod, 'Warning', 'Failed', this.#message);
        this.#write();
        return;
      }
      await this.#retry('FailedCreatePodSandBox', () => this.#setUpSandbox());
      await this.#retry('FailedMount', async () => {
        this.#volumes = await makeVolumes(this.pod, join(this.#dir, 'volumes'), this.#ctx.api, this.#podIP, this.#node.internalIP);
      });
      this.#write();
      for (const r of this.#runs.filter((x) => x.init)) {
        const code = await this.#loop(r);
        if (this.#stopping) return;
        if (code !== 0) {
          this.#phase = 'Failed';
          this.#write();
          await this.#tearDownSandbox();
          return;
        }
      }
      this.#initialized = true;
      this.#phase = 'Running';
      this.#write();
      const codes = await Promise.all(this.#runs.filter((x) => !x.init).map((r) => this.#loop(r)));
      if (this.#stopping) return;
      this.#phase = codes.every((c) => c === 0) ? 'Succeeded' : 'Failed';
      this.#write();
      await this.#tearDownSandbox();
    } catch (err) {
      if (!this.#stopping) this.#ctx.log(`pod ${this.#key}: ${(err as Error).stack ?? String(err)}`);
    }
  }

  /**
   * Stops the pod as a deletion asks: SIGTERM, up to `graceSeconds`, SIGKILL; then the network is torn
   * down and (unless `keepObject`) the pod object removed. Idempotent.
   */
  terminate(graceSeconds: number, keepObject = false): Promise<void> {
    this.#terminating ??= (async () => {
      this.#abort.abort();
      const running = this.#runs.filter((r) => r.child);
      for (const r of running) {
        r.stopProbes?.();
        this.#ctx.api.event(this.pod, 'Normal', 'Killing', `Stopping container ${r.spec.name}`, r.spec.name);
        this.#signal(r, 'SIGTERM');
      }
      const all = Promise.all(running.map((r) => r.exited));
      const grace = new Promise((resolve) => setTimeout(resolve, graceSeconds * 1000).unref());
      await Promise.race([all, grace]);
      for (const r of running.filter((x) => x.child)) this.#signal(r, 'SIGKILL');
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      await this.#flush();
      await this.#tearDownSandbox();
      await rm(join(this.#dir, 'volumes'), { recursive: true, force: true });
      if (!keepObject) await this.#ctx.api.deletePod(this.pod);
    })();
    return this.#terminating;
  }

  get #stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  get #key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  #signal(r: Run, signal: NodeJS.Signals): void {
    const pid = r.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal); // the whole process group of the container
    } catch {
      // already gone
    }
  }

  /** Retries a step of the pod's start (sandbox, volumes) every few seconds, recording each failure as an event. */
  async #retry(reason: string, step: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#stopping) throw new Error('terminating');
      try {
        await step();
        return;
      } catch (err) {
        const message = (err as Error).message;
        this.#ctx.api.event(this.pod, 'Warning', reason, message);
        this.#message = message;
        this.#write();
        if (err instanceof VolumeError && attempt > 0 && reason !== 'FailedMount') throw err;
        await this.#sleep(Math.min(2000 * 2 ** attempt, 20_000));
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }

  async #setUpSandbox(): Promise<void> {
    const { plan } = this.#ctx;
    const m = this.pod.metadata!;
    const portMappings: PortMapping[] = (this.pod.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? [])
        .filter((p) => p.hostPort)
        .flatMap((p) =>
          nodePortAddresses(this.#node, p.hostIP).map((hostIP) => ({
            hostPort: p.hostPort!,
            containerPort: p.containerPort,
            protocol: (p.protocol ?? 'TCP').toLowerCase() as PortMapping['protocol'],
            hostIP,
          })),
        ),
    );
    const record: SandboxRecord = { containerId: m.uid!, netns: this.netns, portMappings, namespace: m.namespace!, name: m.name! };
    mkdirSync(this.#dir, { recursive: true });
    await writeFile(join(this.#dir, 'sandbox.json'), JSON.stringify(record));
    this.#sandbox = record;
    await ip(['netns', 'add', this.netns]).catch((err: Error) => {
      if (!/File exists/.test(err.message)) throw err;
    });
    this.#podIP = await attach(plan, this.#ctx.ipamDir, record, record);
    this.#message = undefined;
  }

  async #tearDownSandbox(): Promise<void> {
    const s = this.#sandbox;
    if (!s) return;
    this.#sandbox = undefined;
    await tearDownSandbox(this.#ctx.plan, this.#ctx.ipamDir, s, this.#ctx.log);
  }

  /** A container's run loop: start, wait for its exit, restart per restartPolicy. Resolves with its final exit code. */
  async #loop(r: Run): Promise<number> {
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    for (;;) {
      if (this.#stopping) return -1;
      const started = Date.now();
      const code = await this.#start(r);
      if (this.#stopping) return code;
      const restart = r.init ? policy !== 'Never' && code !== 0 : policy === 'Always' || (policy === 'OnFailure' && code !== 0);
      if (!restart) return code;
      // Ten minutes of good running forget earlier crashes, as the kubelet's back-off does.
      r.failures = Date.now() - started > 600_000 ? 0 : r.failures + 1;
      r.restartCount++;
      const delay = Math.min(this.#ctx.backoff.initialMs * 2 ** (r.failures - 1), this.#ctx.backoff.maxMs);
      const message = `back-off ${Math.round(delay / 1000)}s restarting failed container=${r.spec.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`;
      r.lastState = r.state;
      r.state = { waiting: { reason: 'CrashLoopBackOff', message } };
      this.#ctx.api.event(this.pod, 'Warning', 'BackOff', `Back-off restarting failed container ${r.spec.name} in pod ${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`, r.spec.name);
      this.#write();
      await this.#sleep(delay);
    }
  }

  /** Starts the container's process and resolves with its exit code (or, after a pause, retries a configuration error). */
  async #start(r: Run): Promise<number> {
    let prepared: { argv: string[]; env: Record<string, string>; script: string };
    try {
      await this.#refreshObjects();
      prepared = this.#prepare(r);
    } catch (err) {
      if (!(err instanceof UnresolvedEnvError || err instanceof VolumeError)) throw err;
      // The kubelet's CreateContainerConfigError: not a crash, tried again without counting a restart.
      r.state = { waiting: { reason: 'CreateContainerConfigError', message: err.message } };
      this.#ctx.api.event(this.pod, 'Warning', 'Failed', `Error: ${err.message}`, r.spec.name);
      this.#write();
      await this.#sleep(5000);
      return this.#stopping ? -1 : this.#start(r);
    }
    const { argv, env, script } = prepared;
    const logDir = join(this.logsDir, r.spec.name);
    mkdirSync(logDir, { recursive: true });
    const fd = openSync(join(logDir, `${r.restartCount}.log`), 'a');
    const child = spawn('ip', ['netns', 'exec', this.netns, 'sh', '-c', script, 'sh', ...argv], { cwd: this.#ctx.checkout, env, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const startedAt = now();
    r.child = child;
    r.containerID = `rig://${child.pid ?? 0}`;
    r.exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(128));
      child.once('exit', (code, signal) => resolve(exitCode(code, signal)));
    });
    r.state = { running: { startedAt } };
    r.started = !r.spec.startupProbe;
    r.ready = !r.init && !r.spec.readinessProbe && r.started;
    this.#ctx.api.event(this.pod, 'Normal', 'Started', `Started container ${r.spec.name}`, r.spec.name);
    if (!r.init) r.stopProbes = this.#startProbes(r, env);
    this.#write();
    const code = await r.exited;
    r.stopProbes?.();
    r.child = undefined;
    r.ready = false;
    r.started = false;
    r.state = { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt, finishedAt: now(), containerID: r.containerID } };
    this.#write();
    return code;
  }

  /** The environment, command line and mount script of a container, as the spec declares them. */
  #prepare(r: Run): { argv: string[]; env: Record<string, string>; script: string } {
    const ctx = this.#ctx;
    const pod = this.pod;
    const fields = Object.fromEntries(
      ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.hostIP', 'status.podIPs', 'status.hostIPs']
        .map((f) => [f, podField(pod, f, this.#podIP, this.#node.internalIP)] as const)
        .filter((e): e is readonly [string, string] => e[1] !== undefined),
    );
    const labelFields = (kind: 'labels' | 'annotations') =>
      Object.entries(pod.metadata?.[kind] ?? {}).map(([k, v]) => [`metadata.${kind}['${k}']`, v] as const);
    const data = this.#objects;
    const resolved = envValues(resolveContainerEnv(r.spec, (kind, name) => data.get(`${kind}/${name}`), { ...Object.fromEntries([...labelFields('labels'), ...labelFields('annotations')]), ...fields }));
    const fault = podFault(pod);
    const env: Record<string, string> = {
      ...ctx.image.env,
      HOSTNAME: pod.metadata!.name!,
      // The API server as every kubelet announces it; reached through the rig's forwarder on the bridge.
      KUBERNETES_SERVICE_HOST: ctx.apiServer.host,
      KUBERNETES_SERVICE_PORT: String(ctx.apiServer.port),
      KUBERNETES_SERVICE_PORT_HTTPS: String(ctx.apiServer.port),
      ...resolved,
    };
    if (!r.init && fault && (PROCESS_FAULTS as readonly string[]).includes(fault)) {
      const preload = pathToFileURL(join(import.meta.dirname, 'faults', `${fault}.ts`)).href;
      env.NODE_OPTIONS = [env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(' ');
    }
    const argv = containerArgv(ctx.image, r.spec.command, r.spec.args).map((a) => expandReferences(a, env));
    const script = mountScript(r.spec.volumeMounts ?? [], this.#volumes, existsSync, [this.#ctx.checkout, this.#ctx.podsDir]);
    return { argv, env, script };
  }

  /** ConfigMaps and Secrets the containers' environment reads, fetched before each start. */
  #objects = new Map<string, Record<string, string>>();

  /** Reads every ConfigMap and Secret the pod's containers reference, before each container start (as the kubelet does). */
  async #refreshObjects(): Promise<void> {
    const ns = this.pod.metadata!.namespace!;
    const wanted = new Set<string>();
    for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) {
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef?.name) wanted.add(`ConfigMap/${f.configMapRef.name}`);
        if (f.secretRef?.name) wanted.add(`Secret/${f.secretRef.name}`);
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef?.name) wanted.add(`ConfigMap/${e.valueFrom.configMapKeyRef.name}`);
        if (e.valueFrom?.secretKeyRef?.name) wanted.add(`Secret/${e.valueFrom.secretKeyRef.name}`);
      }
    }
    const objects = new Map<string, Record<string, string>>();
    for (const key of wanted) {
      const [kind, name] = key.split('/') as ['ConfigMap' | 'Secret', string];
      const d = kind === 'ConfigMap' ? await this.#ctx.api.configMap(ns, name) : await this.#ctx.api.secret(ns, name);
      if (d) objects.set(key, d);
    }
    this.#objects = objects;
  }

  /** Starts the container's probes; returns what stops them. */
  #startProbes(r: Run, env: Record<string, string>): () => void {
    const timers = new Set<NodeJS.Timeout>();
    let stopped = false;
    const target = {
      podIP: this.#podIP,
      container: r.spec,
      exec: (argv: string[], timeoutMs: number) => execInNetns(this.netns, this.#ctx.checkout, env, argv, timeoutMs),
    };
    const schedule = (fn: () => void, ms: number) => {
      if (stopped) return;
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const loop = (kind: 'startup' | 'liveness' | 'readiness', probe: k8s.V1Probe, onResult: (ok: boolean, message: string, streak: { ok: number; fail: number }) => boolean) => {
      const t = probeTiming(probe);
      const streak = { ok: 0, fail: 0 };
      const tick = async () => {
        const res = await runProbe(probe, target);
        if (stopped) return;
        if (res.ok) {
          streak.ok++;
          streak.fail = 0;
        } else {
          streak.fail++;
          streak.ok = 0;
          this.#ctx.api.event(this.pod, 'Warning', 'Unhealthy', `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: ${res.message}`, r.spec.name);
        }
        if (onResult(res.ok, res.message, streak)) schedule(() => void tick(), t.periodMs);
      };
      schedule(() => void tick(), t.initialDelayMs);
    };
    const startRest = () => {
      if (r.spec.livenessProbe) {
        loop('liveness', r.spec.livenessProbe, (_ok, message, streak) => {
          if (streak.fail < probeTiming(r.spec.livenessProbe!).failureThreshold) return true;
          this.#ctx.api.event(this.pod, 'Normal', 'Killing', `Container ${r.spec.name} failed liveness probe, will be restarted: ${message}`, r.spec.name);
          this.#kill(r);
          return false;
        });
      }
      if (r.spec.readinessProbe) {
        const rt = probeTiming(r.spec.readinessProbe);
        loop('readiness', r.spec.readinessProbe, (_ok, _message, streak) => {
          const ready = streak.ok >= rt.successThreshold ? true : streak.fail >= rt.failureThreshold ? false : r.ready;
          if (ready !== r.ready) {
            r.ready = ready;
            this.#write();
          }
          return true;
        });
      } else {
        r.ready = true;
        this.#write();
      }
    };
    if (r.spec.startupProbe) {
      const st = probeTiming(r.spec.startupProbe);
      loop('startup', r.spec.startupProbe, (ok, message, streak) => {
        if (ok) {
          r.started = true;
          this.#write();
          startRest();
          return false;
        }
        if (streak.fail < st.failureThreshold) return true;
        this.#ctx.api.event(this.pod, 'Normal', 'Killing', `Container ${r.spec.name} failed startup probe, will be restarted: ${message}`, r.spec.name);
        this.#kill(r);
        return false;
      });
    } else {
      startRest();
    }
    return () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    };
  }

  /** Kills a container for a failed probe: SIGTERM, the pod's grace period, SIGKILL. */
  #kill(r: Run): void {
    const child = r.child;
    if (!child) return;
    this.#signal(r, 'SIGTERM');
    const grace = (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    setTimeout(() => {
      if (r.child === child) this.#signal(r, 'SIGKILL');
    }, grace).unref();
  }

  // --- status ------------------------------------------------------------------------------------

  #condition(type: string, ok: boolean, reason?: string): k8s.V1PodCondition {
    const status = ok ? 'True' : 'False';
    const prev = this.#transitions.get(type);
    if (!prev || prev.status !== status) this.#transitions.set(type, { status, at: now() });
    return { type, status, lastTransitionTime: this.#transitions.get(type)!.at, ...(ok || !reason ? {} : { reason }) };
  }

  /** The pod status as the kubelet reports it now. */
  status(): k8s.V1PodStatus {
    const regular = this.#runs.filter((r) => !r.init);
    const containersReady = regular.every((r) => r.ready);
    const owned = new Set(['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready']);
    const others = (this.pod.status?.conditions ?? []).filter((c) => !owned.has(c.type));
    const gates = (this.pod.spec?.readinessGates ?? []).every((g) => others.some((c) => c.type === g.conditionType && c.status === 'True'));
    const done = this.#phase === 'Succeeded' || this.#phase === 'Failed';
    const statusOf = (r: Run): k8s.V1ContainerStatus => ({
      name: r.spec.name,
      image: r.spec.image ?? '',
      imageID: 'rig://checkout',
      ...(r.containerID ? { containerID: r.containerID } : {}),
      ready: r.ready,
      started: r.started,
      restartCount: r.restartCount,
      state: r.state,
      ...(r.lastState ? { lastState: r.lastState } : {}),
    });
    const ip = this.#podIP;
    return {
      phase: this.#phase,
      ...(this.#message ? { message: this.#message } : {}),
      conditions: [
        ...others,
        this.#condition('PodReadyToStartContainers', !!ip),
        this.#condition('Initialized', this.#initialized, 'ContainersNotInitialized'),
        this.#condition('ContainersReady', containersReady && !done, done ? 'PodCompleted' : 'ContainersNotReady'),
        this.#condition('Ready', containersReady && gates && !done, done ? 'PodCompleted' : containersReady ? 'ReadinessGatesNotReady' : 'ContainersNotReady'),
      ],
      hostIP: this.#node.internalIP,
      hostIPs: [{ ip: this.#node.internalIP }],
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      startTime: this.#startTime,
      ...(this.pod.spec?.initContainers?.length ? { initContainerStatuses: this.#runs.filter((r) => r.init).map(statusOf) } : {}),
      containerStatuses: regular.map(statusOf),
    };
  }

  /** Writes the status soon (changes within a few milliseconds go in one write). */
  #write(): void {
    this.#dirty = true;
    if (this.#writing) return;
    this.#writing = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      while (this.#dirty) {
        this.#dirty = false;
        await this.#ctx.api.patchStatus(this.pod, this.status()).catch((err: unknown) => this.#ctx.log(`pod ${this.#key}: status not written: ${String(err)}`));
      }
      this.#writing = undefined;
    })();
  }

  async #flush(): Promise<void> {
    this.#write();
    while (this.#writing) await this.#writing;
  }
}

/**
 * Undoes a sandbox: kills whatever still runs in its network namespace, removes its interfaces and
 * hostPort rules (CNI DEL) and the namespace. Also used for sandboxes a previous kubelet left behind.
 */
export async function tearDownSandbox(plan: NetworkPlan, ipamDir: string, s: SandboxRecord, log: (line: string) => void): Promise<void> {
  const pids = (await ip(['netns', 'pids', s.netns]).catch(() => '')).split('\n').map(Number).filter((p) => p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await detach(plan, ipamDir, s, s).catch((err: Error) => log(`sandbox ${s.netns}: ${err.message}`));
  await ip(['netns', 'del', s.netns]).catch((err: Error) => {
    if (!/No such file|does not exist/.test(err.message)) log(`sandbox ${s.netns}: ${err.message}`);
  });
}
