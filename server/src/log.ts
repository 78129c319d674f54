/**
 * The one logger of every server process (the server, `migrate`): JSON lines on stdout, one object
 * per line with `time`, `level`, `msg`, the logger's own fields and the call's fields. Errors in
 * fields are written as their name, message, code and cause chain, never as a bare string.
 */
import { LOG_LEVELS, type LogLevel } from '../../contract/env.ts';

const RANK = Object.fromEntries(LOG_LEVELS.map((level, i) => [level, i])) as Record<LogLevel, number>;

export interface Logger {
  /** Writes one line when `level` is at or above the logger's level. */
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.cause !== undefined && depth < 4) out.cause = plain(value.cause, depth + 1);
    return out;
  }
  return value;
}

/**
 * A logger writing to `write` (stdout by default) at `level` and above; `base` fields (e.g. the
 * component) go on every line.
 */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l), base: Record<string, unknown> = {}): Logger {
  const min = RANK[level];
  const log = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[lvl] < min) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) entry[k] = plain(v);
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    log,
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}
