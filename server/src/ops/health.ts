/**
 * Readiness of what the server stands on: store, presence and bus are probed periodically and the
 * last answer kept, so /health/ready and the game_server_dependency_up gauge read a snapshot
 * without doing I/O per request.
 */
import type { Logger } from '../log.ts';
import { withTimeout } from '../timeout.ts';

/** The parts a game server depends on, as readiness and the dependency_up gauge name them. */
export type DependencyName = 'store' | 'presence' | 'bus';

/**
 * Health over the parts' own pings, logging each dependency going down (an error, with why) or
 * coming back (info) once, never per probe.
 */
export function dependencyHealth(parts: Readonly<Record<DependencyName, { ping(): Promise<void> }>>, log: Logger): DependencyHealth {
  return new DependencyHealth(
    { store: () => parts.store.ping(), presence: () => parts.presence.ping(), bus: () => parts.bus.ping() },
    {
      onChange: (name, up, error) =>
        up ? log.info(`dependency ${name} is up`, { dependency: name }) : log.error(`dependency ${name} is down: ${error}`, { dependency: name }),
    },
  );
}

export interface DependencyStatus {
  readonly up: boolean;
  /** Milliseconds timestamp of the last change. */
  readonly since: number;
  /** Why it is down. */
  readonly error?: string;
}

export interface DependencyHealthOptions {
  /** Milliseconds between probes. Default 5,000. */
  readonly intervalMs?: number;
  /** Milliseconds a probe may take before it counts as down. Default 2,000. */
  readonly timeoutMs?: number;
  /** Called when a dependency goes up or down (not on every probe). */
  readonly onChange?: (name: DependencyName, up: boolean, error?: string) => void;
}

/** Probes each dependency periodically and keeps the last answer. */
export class DependencyHealth {
  readonly #probes: Readonly<Record<DependencyName, () => Promise<void>>>;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #onChange: NonNullable<DependencyHealthOptions['onChange']>;
  readonly #status = new Map<DependencyName, DependencyStatus>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(probes: Readonly<Record<DependencyName, () => Promise<void>>>, options: DependencyHealthOptions = {}) {
    this.#probes = probes;
    this.#interval = options.intervalMs ?? 5_000;
    this.#timeout = options.timeoutMs ?? 2_000;
    this.#onChange = options.onChange ?? (() => {});
  }

  /** Probes every dependency now (concurrently) and returns the fresh snapshot. */
  async check(): Promise<Readonly<Record<DependencyName, DependencyStatus>>> {
    this.#running ??= Promise.all(
      (Object.keys(this.#probes) as DependencyName[]).map(async (name) => {
        let error: string | undefined;
        try {
          await withTimeout(this.#probes[name](), this.#timeout, `no answer within ${this.#timeout} ms`);
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        this.#record(name, error);
      }),
    ).finally(() => {
      this.#running = undefined;
    });
    await this.#running;
    return this.snapshot();
  }

  /** Starts probing every `intervalMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.#interval);
    this.#timer.unref();
  }

  /** Stops probing. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The last known state of each dependency (down until first probed). */
  snapshot(): Readonly<Record<DependencyName, DependencyStatus>> {
    const out = {} as Record<DependencyName, DependencyStatus>;
    for (const name of Object.keys(this.#probes) as DependencyName[]) out[name] = this.#status.get(name) ?? { up: false, since: 0, error: 'not probed yet' };
    return out;
  }

  /** True when every dependency answered its last probe. */
  ready(): boolean {
    return Object.values(this.snapshot()).every((s) => s.up);
  }

  #record(name: DependencyName, error: string | undefined): void {
    const before = this.#status.get(name);
    const up = error === undefined;
    if (before && before.up === up) {
      if (!up) this.#status.set(name, { ...before, error });
      return;
    }
    this.#status.set(name, up ? { up, since: Date.now() } : { up, since: Date.now(), error });
    this.#onChange(name, up, error);
  }
}
