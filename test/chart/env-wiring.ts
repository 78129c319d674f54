/**
 * How the chart sets each variable of contract/env.ts on the game server, as a function of the
 * values. Typed over every EnvKey: a variable added to the contract fails the typecheck here until
 * someone decides how the chart sets it — or writes down why the server's default is right in a pod.
 */
import type { EnvKey } from '../../contract/env.ts';
import type { EnvSource } from '../../scripts/rig/live/env.ts';

/** 'unset': deliberately left to the server's default (the reason is next to the row). */
export type Wiring = EnvSource | 'unset';

type Values = Record<string, any>;

const udpOn = (v: Values) => v.udp.mode !== 'disabled';
const perNode = (v: Values) => ['nodePort', 'hostPort', 'hostNetwork'].includes(v.udp.mode);

export const WIRING: { readonly [K in EnvKey]: (v: Values) => Wiring } = {
  host: () => 'configMap',
  gamePort: () => 'configMap',
  healthPort: () => 'configMap',
  metricsPort: () => 'configMap',
  udpEnabled: () => 'configMap',
  // With UDP off nothing binds it.
  udpPort: (v) => (udpOn(v) ? 'configMap' : 'unset'),
  // Never: the per-node modes announce the node's address through the file the node-address init
  // container writes; relay and disabled announce the pod's own addresses (the default).
  udpAnnounceAddress: () => 'unset',
  udpAnnounceFile: (v) => (perNode(v) ? 'configMap' : 'unset'),
  // ICE servers with credentials come whole from a Secret; without any, none are offered (the default).
  iceServers: (v) => (!udpOn(v) ? 'unset' : v.udp.iceServersSecret.name ? 'secret' : v.udp.iceServers.length ? 'configMap' : 'unset'),
  tickRate: () => 'configMap',
  patchRate: () => 'configMap',
  sendProfile: () => 'configMap',
  zoneCount: () => 'configMap',
  zoneSize: () => 'configMap',
  zones: () => 'configMap',
  interestRadius: () => 'configMap',
  maxPlayers: () => 'configMap',
  drainSeconds: () => 'configMap',
  saveIntervalSeconds: () => 'configMap',
  // The pod name: unique among peers, and what logs and presence show.
  serverId: () => 'field',
  publicUrl: () => 'configMap',
  adminToken: () => 'secret',
  logLevel: () => 'configMap',
  databaseUrl: () => 'secret',
  // DATABASE_URL is always set (bundled or external PostgreSQL): the embedded database is never opened.
  dataDir: () => 'unset',
  redisUrl: () => 'secret',
  amqpUrl: () => 'secret',
  authSecret: () => 'secret',
};

/**
 * Stand-ins for the Secrets a studio creates itself (existingSecret, external services, ICE
 * servers), keyed by Secret name then key, with values of the shape the server expects.
 */
export function userSecrets(v: Values): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const put = (name: string, key: string, value: string) => {
    if (name) (out[name] ??= {})[key] = value;
  };
  const urls: Record<string, string> = {
    postgres: 'postgres://mmo:studio-password@db.example.com:5432/mmo',
    redis: 'redis://:studio-password@cache.example.com:6379/0',
    rabbitmq: 'amqp://mmo:studio-password@mq.example.com:5672',
  };
  for (const svc of ['postgres', 'redis', 'rabbitmq']) {
    const s = v[svc];
    if (s.enabled) {
      put(s.auth.existingSecret, s.auth.urlKey, urls[svc]!);
      put(s.auth.existingSecret, s.auth.passwordKey, 'studio-password');
    } else {
      put(s.external.existingSecret, s.external.existingSecretKey, urls[svc]!);
    }
  }
  put(v.gameServer.auth.existingSecret, v.gameServer.auth.existingSecretKey, 's'.repeat(48));
  put(v.gameServer.admin.existingSecret, v.gameServer.admin.existingSecretKey, 'a'.repeat(24));
  put(v.udp.iceServersSecret.name, v.udp.iceServersSecret.key, JSON.stringify([{ urls: ['turn:turn.example.com:3478'], username: 'game', credential: 'x' }]));
  return out;
}
