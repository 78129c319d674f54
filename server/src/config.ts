/**
 * The server's configuration, read from environment variables as listed in contract/env.ts and
 * validated before anything starts. A bad value raises ConfigError with one line that names the
 * variable, what was expected and what was given.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ENV, type EnvKey, type EnvSpec, type LogLevel, type SendProfile } from '../../contract/env.ts';
import { FORMATS, ZONE_ITEM, type FormatName } from '../../contract/formats.ts';

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export interface Config {
  readonly host: string;
  readonly gamePort: number;
  readonly healthPort: number;
  readonly metricsPort: number;
  readonly udpEnabled: boolean;
  readonly udpPort: number;
  /** Address written into ICE host candidates instead of the interface address, if any. */
  readonly udpAnnounceAddress: string | undefined;
  readonly iceServers: readonly RTCIceServer[];
  readonly tickRate: number;
  readonly patchRate: number;
  /** MMO_SEND_PROFILE: acknowledgements and events at once (action), or one frame per patch interval (mmo). */
  readonly sendProfile: SendProfile;
  readonly zoneCount: number;
  readonly zoneSize: number;
  /** Zone ids this process owns, ascending. */
  readonly zones: readonly number[];
  readonly interestRadius: number;
  readonly maxPlayers: number;
  readonly drainSeconds: number;
  readonly saveIntervalSeconds: number;
  readonly serverId: string;
  readonly logLevel: LogLevel;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly redisUrl: string | undefined;
  readonly amqpUrl: string | undefined;
  readonly authSecret: string | undefined;
  /** MMO_PUBLIC_URL: how players reach this process; undefined = derived from the bound port. */
  readonly publicUrl: string | undefined;
  /** MMO_ADMIN_TOKEN: bearer token of the admin endpoints; undefined = they refuse every request. */
  readonly adminToken: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Whether `value` has the contract's format `name` (the same pattern the chart checks). */
export function hasFormat(name: FormatName, value: string): boolean {
  return new RegExp(FORMATS[name].pattern).test(value);
}

function raw(env: Env, spec: EnvSpec): string | undefined {
  const v = env[spec.name];
  if (v === undefined || v.trim() === '') return spec.default;
  return v.trim();
}

function parse(env: Env, key: EnvKey): string | number | boolean | undefined {
  const spec: EnvSpec = ENV[key];
  const v = raw(env, spec);
  if (v === undefined) return undefined;
  const kind = spec.kind;
  switch (kind.type) {
    case 'int':
    case 'number': {
      const n = Number(v);
      const ok = kind.type === 'int' ? /^-?\d+$/.test(v) && Number.isSafeInteger(n) : Number.isFinite(n);
      if (!ok || n < kind.min || n > kind.max) {
        throw new ConfigError(spec.name, `expected ${kind.type === 'int' ? 'an integer' : 'a number'} from ${kind.min} to ${kind.max}, got ${JSON.stringify(v)}`);
      }
      return n;
    }
    case 'bool':
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      throw new ConfigError(spec.name, `expected true or false, got ${JSON.stringify(v)}`);
    case 'enum':
      if (!kind.values.includes(v)) throw new ConfigError(spec.name, `expected one of ${kind.values.join(', ')}, got ${JSON.stringify(v)}`);
      return v;
    case 'url': {
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw new ConfigError(spec.name, `expected a URL (${kind.protocols.map((p) => `${p}//…`).join(' or ')}), got a value that does not parse`);
      }
      if (!kind.protocols.includes(u.protocol)) {
        throw new ConfigError(spec.name, `expected a URL starting with ${kind.protocols.map((p) => `${p}//`).join(' or ')}, got ${u.protocol}//…`);
      }
      if (kind.format && !hasFormat(kind.format, v)) throw new ConfigError(spec.name, `expected ${FORMATS[kind.format].expected}`);
      return v; // credentials inside are never echoed
    }
    case 'string':
      if (kind.format && !hasFormat(kind.format, v)) throw new ConfigError(spec.name, `expected ${FORMATS[kind.format].expected}, got ${JSON.stringify(v)}`);
      return v; // its length and the variables it needs are checked once every variable is read (ruleProblem)
  }
}

/**
 * Why `value` breaks a rule contract/env.ts declares for `key` (a minimum length; being required
 * when other variables are set), or undefined when it follows them. `isSet` says whether another
 * variable (a key of ENV) is set. The server applies every such rule through this function only.
 */
export function ruleProblem(key: EnvKey, value: string | undefined, isSet: (key: EnvKey) => boolean): string | undefined {
  const spec: EnvSpec = ENV[key];
  if (value === undefined || value === '') {
    const rule = spec.requiredWhenSet;
    if (!rule || !rule.keys.some((k) => isSet(k as EnvKey))) return undefined;
    return `required when ${rule.keys.map((k) => ENV[k as EnvKey].name).join(' or ')} is set (${rule.because})`;
  }
  if (spec.kind.type === 'string' && spec.kind.minLength !== undefined && value.length < spec.kind.minLength) {
    return `expected at least ${spec.kind.minLength} characters, got ${value.length}`;
  }
  return undefined;
}

/** Parses MMO_ZONES ("*" or "0,2-3", the contract's zones format) against the zone count. */
export function parseZones(value: string, zoneCount: number, variable = ENV.zones.name): number[] {
  if (!hasFormat('zones', value)) throw new ConfigError(variable, `expected ${FORMATS.zones.expected}, got ${JSON.stringify(value)}`);
  if (value.trim() === '*') return Array.from({ length: zoneCount }, (_, i) => i);
  const zones = new Set<number>();
  const item = new RegExp(`^${ZONE_ITEM}$`);
  for (const part of value.split(',')) {
    const m = item.exec(part.trim())!;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new ConfigError(variable, `range ${part.trim()} runs backwards`);
    if (to >= zoneCount) throw new ConfigError(variable, `zone ${to} does not exist: MMO_ZONE_COUNT is ${zoneCount} (ids 0-${zoneCount - 1})`);
    for (let z = from; z <= to; z++) zones.add(z);
  }
  return [...zones].sort((a, b) => a - b);
}

function parseIceServers(value: string | undefined): RTCIceServer[] {
  if (value === undefined) return [];
  const name = ENV.iceServers.name;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(name, 'expected a JSON array like [{"urls":"stun:stun.example.org:3478"}], got text that is not JSON');
  }
  if (!Array.isArray(parsed)) throw new ConfigError(name, 'expected a JSON array of {"urls": …} objects');
  parsed.forEach((s: unknown, i) => {
    const urls = (s as { urls?: unknown } | null)?.urls;
    const list = Array.isArray(urls) ? urls : [urls];
    if (list.length === 0 || !list.every((u) => typeof u === 'string' && hasFormat('iceServerUrl', u))) {
      throw new ConfigError(name, `[${i}].urls: expected a stun:/turn: URL or a list of them`);
    }
  });
  return parsed as RTCIceServer[];
}

/** Reads and validates the configuration; throws ConfigError on the first bad value. */
export function loadConfig(env: Env = process.env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Config {
  const get = <T extends string | number | boolean | undefined>(key: EnvKey): T => parse(env, key) as T;
  const zoneCount = get<number>('zoneCount');
  const tickRate = get<number>('tickRate');
  const patchRate = get<number>('patchRate');
  if (patchRate > tickRate) {
    throw new ConfigError(ENV.patchRate.name, `expected at most MMO_TICK_RATE (${tickRate}), got ${patchRate}`);
  }
  let announce = get<string | undefined>('udpAnnounceAddress');
  const announceFile = get<string | undefined>('udpAnnounceFile');
  if (announceFile !== undefined) {
    let text: string;
    try {
      text = readFile(announceFile).trim();
    } catch (err) {
      throw new ConfigError(ENV.udpAnnounceFile.name, `cannot read ${announceFile}: ${(err as Error).message}`);
    }
    if (text === '') throw new ConfigError(ENV.udpAnnounceFile.name, `${announceFile} is empty; expected an IP address or host name`);
    announce = text;
  }
  if (announce !== undefined && !/^[0-9a-zA-Z.:-]+$/.test(announce)) {
    throw new ConfigError(announceFile ? ENV.udpAnnounceFile.name : ENV.udpAnnounceAddress.name, `expected an IP address or host name, got ${JSON.stringify(announce)}`);
  }
  const redisUrl = get<string | undefined>('redisUrl');
  const amqpUrl = get<string | undefined>('amqpUrl');
  const authSecret = get<string | undefined>('authSecret');
  // The rules contract/env.ts declares beyond a value's type: lengths, variables required together.
  for (const key of Object.keys(ENV) as EnvKey[]) {
    const problem = ruleProblem(key, raw(env, ENV[key]), (other) => raw(env, ENV[other]) !== undefined);
    if (problem) throw new ConfigError(ENV[key].name, problem);
  }
  const adminToken = get<string | undefined>('adminToken');
  const gamePort = get<number>('gamePort');
  const healthPort = get<number>('healthPort');
  const metricsPort = get<number>('metricsPort');
  if (healthPort === gamePort && healthPort !== 0) throw new ConfigError(ENV.healthPort.name, `must differ from MMO_GAME_PORT (${gamePort})`);
  if (metricsPort === gamePort && metricsPort !== 0) throw new ConfigError(ENV.metricsPort.name, `must differ from MMO_GAME_PORT (${gamePort})`);
  return {
    host: get('host'),
    gamePort,
    healthPort,
    metricsPort,
    udpEnabled: get('udpEnabled'),
    udpPort: get('udpPort'),
    udpAnnounceAddress: announce,
    iceServers: parseIceServers(get<string | undefined>('iceServers')),
    tickRate,
    patchRate,
    sendProfile: get('sendProfile'),
    zoneCount,
    zoneSize: get('zoneSize'),
    zones: parseZones(get<string>('zones'), zoneCount),
    interestRadius: get('interestRadius'),
    maxPlayers: get('maxPlayers'),
    drainSeconds: get('drainSeconds'),
    saveIntervalSeconds: get('saveIntervalSeconds'),
    serverId: get<string | undefined>('serverId') ?? hostname(),
    logLevel: get('logLevel'),
    databaseUrl: get('databaseUrl'),
    dataDir: get('dataDir'),
    redisUrl,
    amqpUrl,
    authSecret,
    publicUrl: get<string | undefined>('publicUrl')?.replace(/\/+$/, ''),
    adminToken,
  };
}
