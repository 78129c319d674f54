/**
 * `Helm` backed by the real helm binary. Every call names the kubeconfig and context explicitly, so
 * helm talks to exactly the cluster the Kube reader talks to.
 */
import {
  HelmError,
  helmMessage,
  isReleaseNotFound,
  parseHistory,
  parseRelease,
  type ApplyOptions,
  type ChartRequest,
  type Helm,
  type HelmBinary,
  type HelmRelease,
  type HelmRevision,
  type HelmTestResult,
  type ReleaseRef,
  type TemplateOptions,
  type WaitOptions,
} from './helm.ts';

/** Which cluster helm talks to; both empty means helm's own defaults (KUBECONFIG, current context). */
export interface HelmTarget {
  readonly kubeconfig?: string;
  readonly context?: string;
}

export class HelmCli implements Helm {
  readonly binary: HelmBinary;
  private readonly target: HelmTarget;

  constructor(binary: HelmBinary, target: HelmTarget = {}) {
    this.binary = binary;
    this.target = target;
  }

  async template(ref: ReleaseRef, req: ChartRequest, opts: TemplateOptions = {}): Promise<string> {
    const args = ['template', ref.release, ...chartArgs(req), '--namespace', ref.namespace];
    if (opts.kubeVersion) args.push('--kube-version', opts.kubeVersion);
    for (const v of opts.apiVersions ?? []) args.push('--api-versions', v);
    if (opts.includeTests === false) args.push('--skip-tests');
    for (const t of opts.showOnly ?? []) args.push('--show-only', t);
    return (await this.run(args, { cluster: false })).stdout;
  }

  async status(ref: ReleaseRef): Promise<HelmRelease | undefined> {
    try {
      // `helm status` leaves out the chart; the history line of the same revision has it.
      const [status, history] = await Promise.all([this.run(['status', ref.release, '--namespace', ref.namespace, '--output', 'json']), this.history(ref)]);
      const rel = parseRelease(status.stdout);
      const line = history.find((h) => h.revision === rel.revision);
      if (!line || rel.chartVersion) return rel;
      const chartVersion = /-(\d[^-]*(?:-[^-]+)*)$/.exec(line.chart)?.[1] ?? '';
      return { ...rel, chart: line.chart, chartVersion, appVersion: line.appVersion };
    } catch (err) {
      if (err instanceof HelmError && isReleaseNotFound(err.message)) return undefined;
      throw err;
    }
  }

  async history(ref: ReleaseRef): Promise<HelmRevision[]> {
    try {
      return parseHistory((await this.run(['history', ref.release, '--namespace', ref.namespace, '--output', 'json', '--max', '256'])).stdout);
    } catch (err) {
      if (err instanceof HelmError && isReleaseNotFound(err.message)) return [];
      throw err;
    }
  }

  async values(ref: ReleaseRef, opts: { all?: boolean; revision?: number } = {}): Promise<Record<string, unknown>> {
    const args = ['get', 'values', ref.release, '--namespace', ref.namespace, '--output', 'json'];
    if (opts.all) args.push('--all');
    if (opts.revision) args.push('--revision', String(opts.revision));
    const out = (await this.run(args)).stdout.trim();
    return (out && out !== 'null' ? JSON.parse(out) : {}) as Record<string, unknown>;
  }

  async manifest(ref: ReleaseRef, revision?: number): Promise<string> {
    return (await this.run(['get', 'manifest', ref.release, '--namespace', ref.namespace, ...(revision ? ['--revision', String(revision)] : [])])).stdout;
  }

  async apply(ref: ReleaseRef, req: ChartRequest, opts: ApplyOptions): Promise<HelmRelease> {
    const args = ['upgrade', ref.release, ...chartArgs(req), '--namespace', ref.namespace, '--output', 'json', '--timeout', `${opts.timeoutSeconds}s`];
    if (opts.install) args.push('--install');
    if (opts.reuseValues) args.push('--reuse-values');
    if (opts.description) args.push('--description', opts.description);
    if (opts.dryRun) args.push('--dry-run=server');
    else {
      if (opts.wait) args.push('--wait');
      if (opts.rollbackOnFailure) args.push(this.binary.major === 3 ? '--atomic' : '--rollback-on-failure');
    }
    const { stdout } = await this.run(args, { timeoutMs: (opts.timeoutSeconds + 120) * 1000, signal: opts.signal });
    return parseRelease(stdout.slice(stdout.indexOf('{')));
  }

  async rollback(ref: ReleaseRef, revision: number, opts: WaitOptions): Promise<void> {
    const args = ['rollback', ref.release, String(revision), '--namespace', ref.namespace, '--timeout', `${opts.timeoutSeconds}s`];
    if (opts.wait) args.push('--wait');
    await this.run(args, { timeoutMs: (opts.timeoutSeconds + 120) * 1000 });
  }

  async uninstall(ref: ReleaseRef, opts: WaitOptions): Promise<void> {
    const args = ['uninstall', ref.release, '--namespace', ref.namespace, '--timeout', `${opts.timeoutSeconds}s`];
    if (opts.wait) args.push('--wait');
    await this.run(args, { timeoutMs: (opts.timeoutSeconds + 120) * 1000 });
  }

  async test(ref: ReleaseRef, opts: { timeoutSeconds: number }): Promise<HelmTestResult> {
    try {
      const { stdout } = await this.run(['test', ref.release, '--namespace', ref.namespace, '--timeout', `${opts.timeoutSeconds}s`], {
        timeoutMs: (opts.timeoutSeconds + 60) * 1000,
      });
      return { ok: true, output: stdout.trim() };
    } catch (err) {
      if (err instanceof HelmError) return { ok: false, output: err.message };
      throw err;
    }
  }

  async pull(ref: string, version: string | undefined, dest: string): Promise<void> {
    await this.run(['pull', ref, '--untar', '--destination', dest, ...(version ? ['--version', version] : [])], { cluster: false });
  }

  /** Runs helm; rejects with a HelmError carrying helm's own message when it exits non-zero. */
  private async run(args: string[], opts: { cluster?: boolean; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ stdout: string; stderr: string }> {
    const full = [...args];
    if (opts.cluster !== false) {
      if (this.target.kubeconfig) full.push('--kubeconfig', this.target.kubeconfig);
      if (this.target.context) full.push('--kube-context', this.target.context);
    }
    // Loaded on first use: commands that never run helm start faster.
    const { execa } = await import('execa');
    const res = await execa(this.binary.path, full, {
      reject: false,
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 256 * 1024 * 1024,
      // On a terminal helm gets Ctrl-C itself (same process group); a caller's abort sends it the
      // same signal, and helm is left to finish its own clean-up (no forced kill).
      cancelSignal: opts.signal,
      killSignal: 'SIGINT',
      forceKillAfterDelay: false,
      env: { HELM_DEBUG: 'false' },
    });
    if (res.isCanceled) throw new HelmError(`helm ${args[0]} was interrupted${helmMessage(res.stderr) ? `: ${helmMessage(res.stderr)}` : ''}`, full, res.exitCode);
    if (res.exitCode !== 0 || res.failed) {
      const message = helmMessage(res.stderr) || res.shortMessage || `helm exited with code ${res.exitCode}`;
      throw new HelmError(res.timedOut ? `helm ${args[0]} did not finish in time: ${message}` : message, full, res.exitCode);
    }
    return { stdout: res.stdout, stderr: res.stderr };
  }
}

/** The chart reference and values arguments, in helm's order (files first, then sets as given). */
export function chartArgs(req: ChartRequest): string[] {
  const args = [req.chart.ref];
  if (req.chart.version) args.push('--version', req.chart.version);
  for (const f of req.valueFiles) args.push('--values', f);
  for (const s of req.sets) args.push(s.flag, s.value);
  return args;
}
