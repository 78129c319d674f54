/**
 * Progress of long commands (install, upgrade, rollback, uninstall) as named steps with elapsed
 * time, drawn by listr2 on stderr: a live list on a terminal, plain timestamped lines otherwise (CI
 * logs). stdout stays for the result alone. A step that throws stops the list; the error reaches the
 * command unchanged.
 */
import { Listr, ListrLogger, PRESET_TIMER, PRESET_TIMESTAMP, ProcessOutput } from 'listr2';

export interface Step<C> {
  readonly title: string;
  /** Does the step's work; a returned string replaces the title when it is done ("Namespace game exists"). */
  run(ctx: C, report: StepReporter): Promise<string | void>;
  /** A reason to skip the step, or false. */
  skip?(ctx: C): string | false;
}

export interface StepReporter {
  /** Replaces the step's title while it runs (e.g. "waiting for 3 pods"). */
  title(text: string): void;
  /** A line of detail under the step. */
  output(text: string): void;
}

/** What each step did, for -o json. */
export interface StepRecord {
  readonly title: string;
  readonly status: 'done' | 'skipped' | 'failed' | 'not run';
  readonly durationMs: number;
  readonly note?: string;
}

export interface ProgressOptions {
  /** Draw on a terminal (live list) or as timestamped lines. Default: whether stderr is a TTY. */
  readonly interactive?: boolean;
  /** No progress at all (tests, or a caller drawing its own). */
  readonly silent?: boolean;
  readonly color?: boolean;
}

/** Runs the steps in order; resolves with what each did, rejects with the first step's error (records attached). */
export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, opts: ProgressOptions = {}): Promise<StepRecord[]> {
  const records: StepRecord[] = steps.map((s) => ({ title: s.title, status: 'not run', durationMs: 0 }));
  const interactive = opts.interactive ?? process.stderr.isTTY === true;
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr), useIcons: true });
  const list = new Listr<C, 'default', 'simple'>(
    steps.map((step, i) => ({
      title: step.title,
      skip: () => {
        const why = step.skip?.(ctx);
        if (why) records[i] = { title: step.title, status: 'skipped', durationMs: 0, note: why };
        return why || false;
      },
      task: async (_c, task) => {
        const t0 = performance.now();
        try {
          const done = await step.run(ctx, {
            title: (text) => {
              task.title = text;
            },
            output: (text) => {
              task.output = text;
            },
          });
          if (done) task.title = done;
          records[i] = { title: done || step.title, status: 'done', durationMs: Math.round(performance.now() - t0) };
        } catch (err) {
          records[i] = { title: step.title, status: 'failed', durationMs: Math.round(performance.now() - t0) };
          throw err;
        }
      },
    })),
    {
      ctx,
      concurrent: false,
      exitOnError: true,
      registerSignalListeners: false,
      renderer: opts.silent ? 'silent' : 'default',
      fallbackRenderer: 'simple',
      fallbackRendererCondition: !interactive,
      silentRendererCondition: opts.silent === true,
      forceColor: opts.color,
      rendererOptions: { timer: PRESET_TIMER, logger, collapseSubtasks: false, persistentOutput: true } as never,
      fallbackRendererOptions: { timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP, logger } as never,
    } as never,
  );
  try {
    await list.run();
    return records;
  } catch (err) {
    throw Object.assign(err as object, { steps: records });
  }
}

/** The step records a failed runSteps attached to its error, if any. */
export function stepsOf(err: unknown): StepRecord[] | undefined {
  return (err as { steps?: StepRecord[] } | undefined)?.steps;
}
