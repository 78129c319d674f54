/**
 * Command-line options of the load generator, validated into one plain object. Every refusal names
 * the flag, what was expected and what was given.
 */
import { parseArgs } from 'node:util';
import { PATHS, PORTS, type TransportName } from '../../contract/ports.ts';
import { ERROR_CODES } from '../../protocol/errors.ts';
import { SEED_SCENARIO, turnsOf, type Scenario } from './scheduler.ts';

/**
 * `say` (the default: heard by the players in view, as most lines in a real game are), `zone` and
 * `global` (rate-limited per player and per channel by the server, see docs/protocol.md), or
 * `none` to leave chat out of the scenario (to measure what chat fan-out costs).
 */
export type ChatChannel = 'say' | 'zone' | 'global' | 'none';

/**
 * What --check demands beyond liveness (every bot started, joined and got its moves acknowledged,
 * which always applies). Each is optional on the command line; the chart's `helm test` sets them
 * from `tests.check`.
 */
export interface CheckLimits {
  /** Fail when the window's move→ack p95 is above this, ms; undefined: no limit (the default). */
  readonly rttP95Ms: number | undefined;
  /** Fail when any error of these codes was counted over the run. Default: internal, unavailable. */
  readonly errors: readonly string[];
  /** Fail when the generator fell behind its own timetable (its numbers understate the server). Default off. */
  readonly keptUp: boolean;
  /** Fail when the server's /metrics could not be read (or held no tick durations). Default off. */
  readonly metrics: boolean;
}

/** Error codes that fail --check unless --check-errors says otherwise: the server's own faults. */
export const DEFAULT_CHECK_ERRORS: readonly string[] = ['internal', 'unavailable'];

/** Codes --check-errors takes: the server's error codes, and a connect that never got an answer. */
export const CHECKABLE_ERRORS: readonly string[] = [...Object.keys(ERROR_CODES), 'connect_failed'];

export interface LoadOptions {
  /** Base HTTP URL of the game server (`http://host:port`), whatever form --url had. */
  readonly serverUrl: string;
  readonly players: number;
  readonly transport: TransportName;
  /** Seconds of steady load measured after the ramp. */
  readonly durationS: number;
  /** Seconds over which bots start, evenly spaced. */
  readonly rampS: number;
  /** Where to write the JSON report; undefined: not written. */
  readonly json: string | undefined;
  /** Exit non-zero unless every bot joined and got move acks, within `limits`. */
  readonly check: boolean;
  readonly limits: CheckLimits;
  /** Prometheus endpoint to read the server's tick duration from; undefined: not read. */
  readonly metricsUrl: string | undefined;
  readonly workers: number;
  readonly scenario: Scenario;
  readonly chatChannel: ChatChannel;
  /** Zones bots join, round robin; undefined: spread over every zone the server announces. */
  readonly zones: readonly number[] | undefined;
  readonly connectTimeoutMs: number;
  readonly connectRetries: number;
  /** Connects in flight at once per worker (a ramp of 0 still does not open 5,000 sockets in one go). */
  readonly connectConcurrency: number;
  /** Pid of a server on this machine whose CPU use to report (Linux /proc); undefined: not read. */
  readonly serverPid: number | undefined;
  /** Seconds between progress lines on stderr; 0: none. */
  readonly progressS: number;
  readonly quiet: boolean;
}

/** A bad flag: the message names it and says what is expected. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: npm run loadtest -- --url <url> [options]

Runs N bots against a game server (each: move every 100 ms, chat every 5 s, attack every 2 s),
then prints a table and optionally writes a JSON report.

  --url URL              server: ws://host:8080/ws, http://host:8080 (required)
  --players N            bots to run (default 10, at most 20000)
  --transport ws|udp     WebSocket (TCP) or WebRTC data channel (UDP) (default ws)
  --duration S           seconds of steady load measured after the ramp (default 30)
  --ramp S               seconds over which bots connect (default 0: as fast as allowed)
  --json FILE            write the report as JSON
  --check                exit 3 unless every bot joined and got move acks, and the limits below hold
  --check-rtt-p95 MS     fail the check when move→ack p95 is above MS (default: no limit)
  --check-errors LIST    fail the check when the server sent any of these error codes
                         (default internal,unavailable; "none": no code fails it)
  --check-kept-up        fail the check when the generator fell behind its own timetable
  --check-metrics        fail the check when the server's /metrics could not be read
  --metrics-url URL      server /metrics (default: http://<host>:${PORTS.metrics}${PATHS.metrics}; "none" to skip)
  --workers N            threads running bots (default 1)
  --chat say|zone|global|none  chat channel bots use (default say: heard by the players in view;
                         zone and global are rate-limited by the server; none: bots do not chat)
  --zones LIST           zones to join, e.g. "0,1" (default: all the server announces)
  --move-ms MS           move period (default ${SEED_SCENARIO.moveMs}); --chat-ms, --attack-ms likewise
  --connect-timeout MS   per attempt (default 5000); --connect-retries N (default 2)
  --connect-concurrency N  connects in flight per worker (default 64 ws, 16 udp)
  --server-pid PID       also report that local process's CPU use over the window (benchmarks)
  --progress S           seconds between progress lines on stderr (default 5, 0: none)
  --quiet                print only the final table`;

function int(flag: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

function num(flag: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`--${flag}: expected a number of seconds from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** `ws://h:p/ws`, `http://h:p/` … → `http://h:p` (the GameClient and /auth live there). */
export function serverBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url: expected a URL such as ws://127.0.0.1:${PORTS.game}${PATHS.websocket}, got ${JSON.stringify(raw)}`);
  }
  const proto = { 'ws:': 'http:', 'http:': 'http:', 'wss:': 'https:', 'https:': 'https:' }[u.protocol];
  if (!proto) throw new UsageError(`--url: expected ws, wss, http or https, got ${JSON.stringify(u.protocol)} in ${raw}`);
  return `${proto}//${u.host}`;
}

/** Parses argv (without node and the script) into options; throws UsageError. */
export function parseOptions(argv: readonly string[]): LoadOptions & { help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        players: { type: 'string' },
        transport: { type: 'string' },
        duration: { type: 'string' },
        ramp: { type: 'string' },
        json: { type: 'string' },
        check: { type: 'boolean' },
        'check-rtt-p95': { type: 'string' },
        'check-errors': { type: 'string' },
        'check-kept-up': { type: 'boolean' },
        'check-metrics': { type: 'boolean' },
        'metrics-url': { type: 'string' },
        workers: { type: 'string' },
        chat: { type: 'string' },
        zones: { type: 'string' },
        'move-ms': { type: 'string' },
        'chat-ms': { type: 'string' },
        'attack-ms': { type: 'string' },
        'connect-timeout': { type: 'string' },
        'connect-retries': { type: 'string' },
        'connect-concurrency': { type: 'string' },
        progress: { type: 'string' },
        'server-pid': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const v = parsed.values;
  const help = v.help === true;
  if (help) {
    return { help, ...defaults() };
  }
  if (v.url === undefined) throw new UsageError('--url: required (for example --url ws://127.0.0.1:8080/ws)');
  const serverUrl = serverBaseUrl(v.url);
  const transport = v.transport ?? 'ws';
  if (transport !== 'ws' && transport !== 'udp') {
    throw new UsageError(`--transport: expected ws or udp, got ${JSON.stringify(transport)}`);
  }
  const chat = v.chat ?? 'say';
  if (chat !== 'say' && chat !== 'zone' && chat !== 'global' && chat !== 'none') {
    throw new UsageError(`--chat: expected say, zone, global or none, got ${JSON.stringify(chat)}`);
  }
  let zones: number[] | undefined;
  if (v.zones !== undefined) {
    zones = v.zones.split(',').map((z) => int('zones', z.trim(), 0, 0, 1023));
    if (zones.length === 0) throw new UsageError('--zones: expected a comma list of zone ids');
  }
  const scenario: Scenario = {
    moveMs: int('move-ms', v['move-ms'], SEED_SCENARIO.moveMs, 10, 60_000),
    chatMs: int('chat-ms', v['chat-ms'], SEED_SCENARIO.chatMs, 10, 3_600_000),
    attackMs: int('attack-ms', v['attack-ms'], SEED_SCENARIO.attackMs, 10, 3_600_000),
  };
  try {
    turnsOf(scenario);
  } catch (err) {
    throw new UsageError(`--chat-ms/--attack-ms: ${(err as Error).message}`);
  }
  if (scenario.moveMs % 10 !== 0) throw new UsageError(`--move-ms: expected a multiple of 10, got ${scenario.moveMs}`);
  let metricsUrl: string | undefined;
  const m = v['metrics-url'];
  if (m === 'none') metricsUrl = undefined;
  else if (m !== undefined) {
    try {
      metricsUrl = new URL(m).toString();
    } catch {
      throw new UsageError(`--metrics-url: expected a URL such as http://127.0.0.1:${PORTS.metrics}${PATHS.metrics} or "none", got ${JSON.stringify(m)}`);
    }
  } else {
    const u = new URL(serverUrl);
    metricsUrl = `http://${u.hostname}:${PORTS.metrics}${PATHS.metrics}`; // hostname keeps IPv6 brackets
  }
  const limits = checkLimits(v['check-rtt-p95'], v['check-errors'], v['check-kept-up'] === true, v['check-metrics'] === true);
  if (limits.metrics && metricsUrl === undefined) {
    throw new UsageError('--check-metrics: the server\'s /metrics is not read with --metrics-url none; give its URL or leave --check-metrics out');
  }
  return {
    help,
    serverUrl,
    players: int('players', v.players, 10, 1, 20_000),
    transport,
    durationS: num('duration', v.duration, 30, 1, 24 * 3600),
    rampS: num('ramp', v.ramp, 0, 0, 3600),
    json: v.json,
    check: v.check === true,
    limits,
    metricsUrl,
    workers: int('workers', v.workers, 1, 1, 16),
    scenario,
    chatChannel: chat,
    zones,
    connectTimeoutMs: int('connect-timeout', v['connect-timeout'], 5000, 100, 120_000),
    connectRetries: int('connect-retries', v['connect-retries'], 2, 0, 10),
    connectConcurrency: int('connect-concurrency', v['connect-concurrency'], transport === 'udp' ? 16 : 64, 1, 10_000),
    serverPid: v['server-pid'] === undefined ? undefined : int('server-pid', v['server-pid'], 0, 1, 2 ** 22),
    progressS: num('progress', v.progress, 5, 0, 3600),
    quiet: v.quiet === true,
  };
}

function checkLimits(rttP95: string | undefined, errors: string | undefined, keptUp: boolean, metrics: boolean): CheckLimits {
  let rttP95Ms: number | undefined;
  if (rttP95 !== undefined) {
    const v = Number(rttP95);
    if (rttP95.trim() === '' || !Number.isFinite(v) || v <= 0 || v > 60_000) {
      throw new UsageError(`--check-rtt-p95: expected milliseconds above 0 and at most 60000, got ${JSON.stringify(rttP95)}`);
    }
    rttP95Ms = v;
  }
  let codes = DEFAULT_CHECK_ERRORS;
  if (errors !== undefined) {
    codes = errors.trim() === 'none' ? [] : errors.split(',').map((c) => c.trim());
    const unknown = codes.filter((c) => !CHECKABLE_ERRORS.includes(c));
    if (unknown.length > 0) {
      throw new UsageError(`--check-errors: expected "none" or a comma list of ${CHECKABLE_ERRORS.join(', ')}; got ${JSON.stringify(errors)}`);
    }
  }
  return { rttP95Ms, errors: codes, keptUp, metrics };
}

function defaults(): LoadOptions {
  return {
    serverUrl: `http://127.0.0.1:${PORTS.game}`,
    players: 10,
    transport: 'ws',
    durationS: 30,
    rampS: 0,
    json: undefined,
    check: false,
    limits: { rttP95Ms: undefined, errors: DEFAULT_CHECK_ERRORS, keptUp: false, metrics: false },
    metricsUrl: undefined,
    workers: 1,
    scenario: SEED_SCENARIO,
    chatChannel: 'say',
    zones: undefined,
    connectTimeoutMs: 5000,
    connectRetries: 2,
    connectConcurrency: 64,
    serverPid: undefined,
    progressS: 5,
    quiet: false,
  };
}
