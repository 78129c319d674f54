/**
 * What every mmoctl command shares: the global flags (cluster, namespace, release, output, color,
 * helm), the adapters built from them (once per command), printing a result as a table, JSON or YAML,
 * and turning every error into one clear message and its exit code (contract/exit-codes.ts).
 * Commands parse their own flags, call one service, and return `this.finish(result)`.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { EXIT, type ExitCode } from '../contract/exit-codes.ts';
import { CliError, InvalidInputError, describeError, type Problem } from './errors.ts';
import { findHelm } from './helm/binary.ts';
import { HelmCli } from './helm/cli.ts';
import { HelmError, type Helm, type ReleaseRef } from './helm/helm.ts';
import { connectKube } from './kube/connect.ts';
import { KubeError, kubeHint, type Kube } from './kube/kube.ts';
import { OUTPUT_FORMATS, errorDocument, serialize, type Document, type OutputFormat } from './ui/output.ts';
import { renderError } from './ui/problems.ts';
import { makeStyle, wantsColor, type Style } from './ui/style.ts';

/** The release mmoctl works on when --release and MMOCTL_RELEASE are unset. */
export const DEFAULT_RELEASE = 'mmo';
/** The namespace mmoctl works in when -n and MMOCTL_NAMESPACE are unset. */
export const DEFAULT_NAMESPACE = 'mmo';

/** What a command returns: a document for -o json|yaml, a human rendering, and how it ends. */
export interface CommandResult {
  readonly document: Document;
  readonly human: (style: Style) => string;
  readonly exitCode: ExitCode;
}

interface GlobalFlagValues {
  kubeconfig?: string;
  /** A list where a command takes several (`status --context a --context b`). */
  context?: string | string[];
  namespace?: string;
  release?: string;
  output: OutputFormat;
  json: boolean;
  color: boolean;
  helm?: string;
}

export abstract class MmoctlCommand extends Command {
  static override baseFlags = {
    kubeconfig: Flags.string({ summary: 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).', helpGroup: 'GLOBAL' }),
    context: Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Kubeconfig context to use (default: the current context); `status` takes several, to show the release in each cluster side by side.',
      helpGroup: 'GLOBAL',
    }),
    namespace: Flags.string({ char: 'n', summary: `Namespace of the release (default: $MMOCTL_NAMESPACE, else "${DEFAULT_NAMESPACE}").`, env: 'MMOCTL_NAMESPACE', helpGroup: 'GLOBAL' }),
    release: Flags.string({ summary: `Release name (default: $MMOCTL_RELEASE, else "${DEFAULT_RELEASE}").`, env: 'MMOCTL_RELEASE', helpGroup: 'GLOBAL' }),
    output: Flags.option({ char: 'o', options: OUTPUT_FORMATS, default: 'table' as OutputFormat, summary: 'Output format: table (for people), json or yaml (documented in docs/cli.md).', helpGroup: 'GLOBAL' })(),
    json: Flags.boolean({ default: false, summary: 'Same as -o json.', helpGroup: 'GLOBAL' }),
    color: Flags.boolean({ default: true, allowNo: true, summary: 'Color human output (default: on a terminal, unless NO_COLOR is set).', helpGroup: 'GLOBAL' }),
    helm: Flags.string({ summary: 'helm binary, 3.14+ or 4.x (default: $MMOCTL_HELM, else helm on PATH).', helpGroup: 'GLOBAL' }),
  };

  /** Whether the command reads several clusters when --context is given more than once. */
  static severalClusters = false;

  /** Global flag values, parsed once in init(). */
  protected global!: {
    kubeconfig?: string;
    context?: string;
    /** Every --context given (status reads several clusters); `context` is the first. */
    contexts: readonly string[];
    namespace: string;
    release: string;
    output: OutputFormat;
    color: boolean;
    helm?: string;
  };

  private helmRunner?: Promise<Helm>;
  private kubeClient?: Promise<Kube>;

  protected override async init(): Promise<void> {
    await super.init();
    const { flags } = (await this.parse(this.ctor)) as unknown as { flags: GlobalFlagValues };
    const contexts = [...new Set(flags.context === undefined ? [] : [flags.context].flat())];
    if (contexts.length > 1 && !(this.ctor as typeof MmoctlCommand).severalClusters)
      throw new InvalidInputError(`--context was given ${contexts.length} times; \`mmoctl ${(this.id ?? '').replace(/:/g, ' ')}\` works on one cluster.`, {
        hint: `Run it once per context, e.g. \`--context ${contexts[0]}\`; \`mmoctl status\` is the command that reads several clusters.`,
      });
    this.global = {
      kubeconfig: flags.kubeconfig,
      context: contexts[0],
      contexts,
      namespace: flags.namespace ?? DEFAULT_NAMESPACE,
      release: flags.release ?? DEFAULT_RELEASE,
      output: flags.json ? 'json' : flags.output,
      color: flags.color,
      helm: flags.helm,
    };
  }

  /** oclif's parser, with every refusal (unknown flag, bad value, missing argument) as invalid input. */
  protected override async parse<F extends Record<string, unknown>, B extends Record<string, unknown>, A extends Record<string, unknown>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    try {
      return await super.parse(options, argv);
    } catch (err) {
      if (err instanceof CliError) throw err;
      const message = describeError(err).replace(/\s*See more help with --help\s*$/, '');
      throw new InvalidInputError(message, { hint: `\`mmoctl ${(this.id ?? '').replace(/:/g, ' ')} --help\` lists its flags and arguments.`, cause: err });
    }
  }

  /** The release and namespace this command works on. */
  protected get ref(): ReleaseRef {
    return { release: this.global.release, namespace: this.global.namespace };
  }

  /** The helm runner (found and version-checked on first use). */
  protected helm(): Promise<Helm> {
    this.helmRunner ??= this.helmFor(this.global.context);
    return this.helmRunner;
  }

  /** The cluster (kubeconfig loaded on first use). */
  protected kube(): Promise<Kube> {
    this.kubeClient ??= connectKube({ kubeconfig: this.global.kubeconfig, context: this.global.context });
    return this.kubeClient;
  }

  /** helm and the cluster for another kubeconfig context (commands that read several clusters). */
  protected adaptersFor(context: string): { helm: () => Promise<Helm>; kube: () => Promise<Kube> } {
    let helm: Promise<Helm> | undefined;
    let kube: Promise<Kube> | undefined;
    return {
      helm: () => (helm ??= this.helmFor(context)),
      kube: () => (kube ??= connectKube({ kubeconfig: this.global.kubeconfig, context })),
    };
  }

  private helmFor(context: string | undefined): Promise<Helm> {
    return findHelm(this.global.helm).then((bin) => new HelmCli(bin, { kubeconfig: this.global.kubeconfig, context }));
  }

  /** Style for stdout (tables, reports). */
  protected get style(): Style {
    return makeStyle(wantsColor(process.stdout, this.global?.color ?? true));
  }

  /** Progress and notes: stderr, so stdout stays the result alone (and parseable with -o json). */
  protected note(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** Prints the result in the chosen format and ends the command with its exit code. */
  protected finish(result: CommandResult): void {
    const fmt = this.global.output;
    if (fmt === 'table') process.stdout.write(ensureNewline(result.human(this.style)));
    else process.stdout.write(serialize(result.document, fmt));
    if (result.exitCode !== EXIT.ok) this.exit(result.exitCode);
  }

  protected override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<unknown> {
    // this.exit() throws an ExitError to end the command with a code: let oclif finish it silently.
    if (err.code === 'EEXIT') throw err;
    const { exitCode, message, hint, problems } = classify(err);
    const details = err instanceof CliError ? err.details : undefined;
    const format = this.global?.output ?? (this.argv.includes('--json') || /(^|\s)-o\s*json|--output[= ]json/.test(this.argv.join(' ')) ? 'json' : 'table');
    if (format === 'table') {
      if (details) process.stdout.write(ensureNewline(details.human(this.style)));
      process.stderr.write(renderError(message, hint, problems, makeStyle(wantsColor(process.stderr, this.global?.color ?? true))));
    } else process.stdout.write(serialize({ ...errorDocument(exitCode, message, hint, problems), ...details?.document }, format));
    if (exitCode === EXIT.unexpected && process.env.MMOCTL_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
    return this.exit(exitCode);
  }
}

/** Exit code, message, hint and problems of anything a command threw. */
export function classify(err: unknown): { exitCode: ExitCode; message: string; hint?: string; problems: readonly Problem[] } {
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message, hint: err.hint, problems: err.problems };
  if (err instanceof KubeError) return { exitCode: EXIT.failed, message: err.message, hint: kubeHint(err), problems: [] };
  if (err instanceof HelmError) return { exitCode: EXIT.failed, message: `helm ${err.args[0] ?? ''} failed: ${err.message}`, problems: [] };
  const oclifExit = (err as { oclif?: { exit?: number } })?.oclif?.exit;
  // oclif's own parse errors (unknown flag, bad option value, missing argument) are invalid input.
  if (oclifExit !== undefined) return { exitCode: oclifExit === EXIT.invalidInput ? EXIT.invalidInput : (oclifExit as ExitCode), message: describeError(err), problems: [] };
  return { exitCode: EXIT.unexpected, message: `unexpected error: ${describeError(err)}`, hint: 'This is a bug in mmoctl. Run again with MMOCTL_DEBUG=1 to see where it happened.', problems: [] };
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') || s === '' ? s : `${s}\n`;
}

/** Parses a helm-style duration (`90s`, `5m`, `1h30m`, or plain seconds) into seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?$/.exec(text.trim());
  const plain = /^\d+$/.test(text.trim());
  if (plain) return Number(text);
  if (!m || text.trim() === '') throw new CliError(EXIT.invalidInput, `${flag} ${text}: not a duration; write it as 90s, 5m or 1h30m.`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
