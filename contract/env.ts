/**
 * The game server's configuration: every environment variable it reads, with its type, default and
 * meaning, and the rules a value must follow (a minimum length; being required when other variables
 * are set). The server validates against this table at start; the chart sets exactly these names;
 * `docs/configuration.md` is generated from it.
 */
import type { FormatName } from './formats.ts';
import { PORTS } from './ports.ts';

export type EnvKind =
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'number'; readonly min: number; readonly max: number }
  | { readonly type: 'bool' }
  /** `minLength`: shortest value accepted (credentials). */
  | { readonly type: 'string'; readonly format?: FormatName; readonly minLength?: number }
  | { readonly type: 'url'; readonly protocols: readonly string[]; readonly format?: FormatName }
  | { readonly type: 'enum'; readonly values: readonly string[] };

export interface EnvSpec {
  readonly name: string;
  readonly kind: EnvKind;
  /** Used when the variable is unset or empty; absent means "unset is meaningful" (see description). */
  readonly default?: string;
  readonly description: string;
  /** Holds a credential: the chart must source it from a Secret, never a ConfigMap. */
  readonly secret?: boolean;
  /** Required when any of these variables (keys of ENV) is set; `because` says why (shown in the refusal). */
  readonly requiredWhenSet?: { readonly keys: readonly string[]; readonly because: string };
  /**
   * Chart values (dotted paths in charts/mmo/values.yaml) the chart copies into this variable: their
   * schema takes its type, range, values and format from `kind`, so the chart refuses what the server
   * would refuse.
   */
  readonly chartValues?: readonly string[];
}

// 0 asks the OS for a free port (tests); the server logs the ports it actually bound.
const port = { type: 'int', min: 0, max: 65535 } as const;

/** Log levels, least severe first: MMO_LOG_LEVEL names the least severe one written. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * How the server spends writes on a player (MMO_SEND_PROFILE). `action`: acknowledgements and events
 * leave at once, snapshots at the patch rate. `mmo`: at most one frame per patch interval per player,
 * carrying everything due. The welcome message carries the profile as its index here.
 */
export const SEND_PROFILES = ['action', 'mmo'] as const;
export type SendProfile = (typeof SEND_PROFILES)[number];

export const ENV = {
  host: {
    name: 'MMO_HOST',
    kind: { type: 'string' },
    default: '0.0.0.0',
    description: 'Address the game, health and metrics servers listen on.',
  },
  gamePort: {
    name: 'MMO_GAME_PORT',
    kind: port,
    default: String(PORTS.game),
    description: 'HTTP port for WebSocket players (/ws), WebRTC signaling and the demo page.',
  },
  healthPort: {
    name: 'MMO_HEALTH_PORT',
    kind: port,
    default: String(PORTS.health),
    description: 'HTTP port for /health/live and /health/ready.',
  },
  metricsPort: {
    name: 'MMO_METRICS_PORT',
    kind: port,
    default: String(PORTS.metrics),
    description: 'HTTP port for /metrics and /version.',
  },
  udpEnabled: {
    name: 'MMO_UDP_ENABLED',
    kind: { type: 'bool' },
    default: 'true',
    description: 'Accept players over UDP (WebRTC data channels). When false only WebSocket is offered.',
  },
  udpPort: {
    name: 'MMO_UDP_PORT',
    kind: port,
    default: String(PORTS.udp),
    description: 'The one UDP port WebRTC data uses (pinned so it can be exposed).',

    chartValues: ['udp.port', 'udp.nodePort'],
  },
  udpAnnounceAddress: {
    name: 'MMO_UDP_ANNOUNCE_ADDRESS',
    kind: { type: 'string' },
    description:
      'Address players send UDP to, announced in ICE candidates instead of the interface addresses (for example the node\'s external IP). Unset: interface addresses.',
  },
  udpAnnounceFile: {
    name: 'MMO_UDP_ANNOUNCE_FILE',
    kind: { type: 'string' },
    description:
      'File holding the address to announce (read at start; wins over MMO_UDP_ANNOUNCE_ADDRESS). The chart writes the node\'s external address here from an init container.',
  },
  iceServers: {
    name: 'MMO_ICE_SERVERS',
    kind: { type: 'string' },
    description: 'JSON array of RTCIceServer objects (STUN/TURN) offered to UDP clients. Unset: none.',
  },
  tickRate: {
    name: 'MMO_TICK_RATE',
    kind: { type: 'int', min: 1, max: 120 },
    default: '20',
    description: 'World simulation ticks per second.',

    chartValues: ['gameServer.config.tickRate'],
  },
  patchRate: {
    name: 'MMO_PATCH_RATE',
    kind: { type: 'int', min: 1, max: 120 },
    default: '20',
    description:
      'Snapshots sent to each player per second (at most the tick rate). In the mmo send profile also the most frames a player receives per second (the interval is rounded up to whole ticks).',

    chartValues: ['gameServer.config.patchRate'],
  },
  sendProfile: {
    name: 'MMO_SEND_PROFILE',
    kind: { type: 'enum', values: SEND_PROFILES },
    default: 'action',
    description:
      'How often each player gets a frame. action: acknowledgements, events and chat at once, snapshots at MMO_PATCH_RATE (move→ack is one round trip; about 27 frames a player a second at 20 Hz). mmo: at most one frame per patch interval carrying everything due, timed to follow the player\'s own inputs (about 3× fewer socket writes at 10 Hz, so more players per core; acknowledgements wait up to one tick, events up to one interval, and clients interpolate between snapshots).',

    chartValues: ['gameServer.config.sendProfile'],
  },
  zoneCount: {
    name: 'MMO_ZONE_COUNT',
    kind: { type: 'int', min: 1, max: 1024 },
    default: '4',
    description: 'Number of zones in the world.',

    chartValues: ['gameServer.config.zoneCount'],
  },
  zoneSize: {
    name: 'MMO_ZONE_SIZE',
    kind: { type: 'int', min: 64, max: 100000 },
    default: '1000',
    description: 'Width and height of each (square) zone, in world units.',

    chartValues: ['gameServer.config.zoneSize'],
  },
  zones: {
    name: 'MMO_ZONES',
    kind: { type: 'string', format: 'zones' },
    default: '*',
    description: 'Zones this process owns: "*" for all, or a comma list of ids and ranges ("0,2-3").',

    chartValues: ['gameServer.config.zones'],
  },
  interestRadius: {
    name: 'MMO_INTEREST_RADIUS',
    kind: { type: 'int', min: 16, max: 10000 },
    default: '150',
    description: 'Players see entities within this distance (interest grid cell size).',

    chartValues: ['gameServer.config.interestRadius'],
  },
  maxPlayers: {
    name: 'MMO_MAX_PLAYERS',
    kind: { type: 'int', min: 1, max: 100000 },
    default: '5000',
    description: 'Players this process accepts; further joins are refused with code server_full.',

    chartValues: ['capacity.playersPerPod'],
  },
  drainSeconds: {
    name: 'MMO_DRAIN_SECONDS',
    kind: { type: 'int', min: 0, max: 3600 },
    default: '20',
    description:
      'On SIGTERM: seconds to let players reconnect elsewhere and flush state before exiting. Keep below the pod\'s terminationGracePeriodSeconds.',

    chartValues: ['gameServer.config.drainSeconds'],
  },
  saveIntervalSeconds: {
    name: 'MMO_SAVE_INTERVAL_SECONDS',
    kind: { type: 'int', min: 1, max: 3600 },
    default: '10',
    description: 'Seconds between batched saves of changed characters.',

    chartValues: ['gameServer.config.saveIntervalSeconds'],
  },
  serverId: {
    name: 'MMO_SERVER_ID',
    kind: { type: 'string' },
    description: 'Unique id of this process among its peers. Unset: the host name (the pod name in Kubernetes).',
  },
  publicUrl: {
    name: 'MMO_PUBLIC_URL',
    kind: { type: 'url', protocols: ['http:', 'https:'], format: 'httpOrigin' },
    description:
      'How players reach this process\'s game port (http(s)://host[:port]). Peers hand it to players they transfer into a zone this process owns. Unset: http://<MMO_HOST>:<bound game port> (127.0.0.1 for a wildcard host), right on one machine only. In Kubernetes: the address of the Service in front of the pods that own the same zones.',

    chartValues: ['gameServer.publicUrl'],
  },
  adminToken: {
    name: 'MMO_ADMIN_TOKEN',
    kind: { type: 'string', minLength: 16 },
    secret: true,
    description:
      'Bearer token for the admin endpoints on the metrics port (POST /admin/broadcast, GET /admin/online). Unset: those endpoints refuse every request.',
  },
  logLevel: {
    name: 'MMO_LOG_LEVEL',
    kind: { type: 'enum', values: LOG_LEVELS },
    default: 'info',
    description: 'Least severe log level written (JSON lines on stdout).',

    chartValues: ['gameServer.config.logLevel'],
  },
  databaseUrl: {
    name: 'DATABASE_URL',
    kind: { type: 'url', protocols: ['postgres:', 'postgresql:'] },
    secret: true,
    description: 'PostgreSQL connection URL. Unset: embedded PGlite in MMO_DATA_DIR.',
  },
  dataDir: {
    name: 'MMO_DATA_DIR',
    kind: { type: 'string' },
    default: './data',
    description: 'Directory of the embedded database when DATABASE_URL is unset ("memory://" keeps it in memory).',
  },
  redisUrl: {
    name: 'REDIS_URL',
    kind: { type: 'url', protocols: ['redis:', 'rediss:'] },
    secret: true,
    description: 'Redis URL for presence (sessions, online counts, zone handoff) and the login and account-creation rate limits, shared by every process. Unset: both in this process.',
  },
  amqpUrl: {
    name: 'AMQP_URL',
    kind: { type: 'url', protocols: ['amqp:', 'amqps:'] },
    secret: true,
    description: 'RabbitMQ URL for cross-process messages (global chat, whispers, zone transfer). Unset: in-process bus.',
  },
  authSecret: {
    name: 'MMO_AUTH_SECRET',
    // 32 characters ≈ 192 bits of a random base64 string.
    kind: { type: 'string', minLength: 32 },
    secret: true,
    requiredWhenSet: { keys: ['redisUrl', 'amqpUrl'], because: 'every process must verify the same tokens' },
    description: 'Key that signs player tokens. Unset in local mode: a random key per process.',
  },
} as const satisfies Record<string, EnvSpec>;

export type EnvKey = keyof typeof ENV;
