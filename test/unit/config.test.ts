import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseZones } from '../../server/src/config.ts';
import { announceCandidates } from '../../server/src/transports/udp.ts';

const noFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`);
};

describe('configuration', () => {
  it('runs with no environment at all, on the contract defaults', () => {
    const c = loadConfig({}, noFile);
    expect(c).toMatchObject({
      host: '0.0.0.0', gamePort: 8080, healthPort: 8081, metricsPort: 9090, udpEnabled: true, udpPort: 20000, tickRate: 20, patchRate: 20,
      zoneCount: 4, zones: [0, 1, 2, 3], zoneSize: 1000, interestRadius: 150, maxPlayers: 5000, drainSeconds: 20, iceServers: [],
      databaseUrl: undefined, redisUrl: undefined, amqpUrl: undefined, adminToken: undefined, udpAnnounceAddress: undefined,
    });
  });

  it.each([
    [{ MMO_GAME_PORT: '70000' }, 'MMO_GAME_PORT: expected an integer from 0 to 65535, got "70000"'],
    [{ MMO_TICK_RATE: '20.5' }, 'MMO_TICK_RATE: expected an integer from 1 to 120, got "20.5"'],
    [{ MMO_UDP_ENABLED: 'yes' }, 'MMO_UDP_ENABLED: expected true or false, got "yes"'],
    [{ MMO_LOG_LEVEL: 'verbose' }, 'MMO_LOG_LEVEL: expected one of debug, info, warn, error, got "verbose"'],
    [{ MMO_PATCH_RATE: '30' }, 'MMO_PATCH_RATE: expected at most MMO_TICK_RATE (20), got 30'],
    [{ MMO_ZONES: '1-x' }, 'MMO_ZONES: expected "*" or a comma list of zone ids and ranges like "0,2-3", got "1-x"'],
    [{ MMO_ZONES: '3-1' }, 'MMO_ZONES: range 3-1 runs backwards'],
    [{ MMO_ZONES: '0,,1' }, 'MMO_ZONES: expected "*" or a comma list of zone ids and ranges like "0,2-3", got "0,,1"'],
    [{ MMO_ZONES: '1234567' }, 'MMO_ZONES: expected "*" or a comma list of zone ids and ranges like "0,2-3", got "1234567"'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL: expected a URL starting with redis:// or rediss://, got http://…'],
    [{ AMQP_URL: 'amqp://u:p@h' }, 'MMO_AUTH_SECRET: required when REDIS_URL or AMQP_URL is set (every process must verify the same tokens)'],
    [{ MMO_AUTH_SECRET: 'short' }, 'MMO_AUTH_SECRET: expected at least 32 characters, got 5'],
    [{ MMO_ADMIN_TOKEN: 'short' }, 'MMO_ADMIN_TOKEN: expected at least 16 characters, got 5'],
    [{ MMO_PUBLIC_URL: 'ws://game.example.org' }, 'MMO_PUBLIC_URL: expected a URL starting with http:// or https://, got ws://…'],
    [{ MMO_PUBLIC_URL: 'https://game.example.org/play' }, 'MMO_PUBLIC_URL: expected http(s)://host[:port], with a DNS name or IPv4 address and no path, query or credentials'],
    [{ MMO_PUBLIC_URL: 'https://admin:hunter2@game.example.org' }, 'MMO_PUBLIC_URL: expected http(s)://host[:port], with a DNS name or IPv4 address and no path, query or credentials'],
    [{ MMO_ICE_SERVERS: '[{"urls":"http://x"}]' }, 'MMO_ICE_SERVERS: [0].urls: expected a stun:/turn: URL or a list of them'],
    [{ MMO_ICE_SERVERS: 'stun:x' }, 'MMO_ICE_SERVERS: expected a JSON array like [{"urls":"stun:stun.example.org:3478"}], got text that is not JSON'],
    [{ MMO_UDP_ANNOUNCE_FILE: '/nope' }, 'MMO_UDP_ANNOUNCE_FILE: cannot read /nope: ENOENT: /nope'],
    [{ MMO_UDP_ANNOUNCE_ADDRESS: '1.2.3.4; rm -rf' }, 'MMO_UDP_ANNOUNCE_ADDRESS: expected an IP address or host name, got "1.2.3.4; rm -rf"'],
    [{ MMO_HEALTH_PORT: '8080' }, 'MMO_HEALTH_PORT: must differ from MMO_GAME_PORT (8080)'],
  ])('refuses %o with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env, noFile);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never echoes credentials inside a bad URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://admin:hunter2@db' }, noFile)).toThrow(/^DATABASE_URL: .*mysql:\/\/…$/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://admin:hunter2@db' }, noFile)).not.toThrow(/hunter2/);
  });

  it('reads the announce address from its file, which wins over the variable', () => {
    const c = loadConfig({ MMO_UDP_ANNOUNCE_FILE: '/run/addr', MMO_UDP_ANNOUNCE_ADDRESS: '9.9.9.9' }, () => '203.0.113.7\n');
    expect(c.udpAnnounceAddress).toBe('203.0.113.7');
  });

  it('parses zone lists and ranges', () => {
    expect(parseZones('*', 3)).toEqual([0, 1, 2]);
    expect(parseZones('4, 0-2,1', 8)).toEqual([0, 1, 2, 4]);
    expect(() => parseZones('8', 8)).toThrow(/zone 8 does not exist: MMO_ZONE_COUNT is 8/);
  });

  it.each(['http://game-mmo-server.mmo.svc:8080', 'https://eu-1.game.example.org:8443/', 'http://203.0.113.7:30080', 'https://localhost'])('accepts MMO_PUBLIC_URL %s', (url) => {
    expect(loadConfig({ MMO_PUBLIC_URL: url }, noFile).publicUrl).toBe(url.replace(/\/$/, ''));
  });

  it.each(['https://1.2.3.999', 'https://a.0x1', 'http://game.example.org:70000', 'https://[2001:db8::1]', 'https://*.example.org'])('refuses MMO_PUBLIC_URL %s, as the chart does', (url) => {
    expect(() => loadConfig({ MMO_PUBLIC_URL: url }, noFile)).toThrow(ConfigError);
  });

  it('keeps MMO_PUBLIC_URL without a trailing slash', () => {
    expect(loadConfig({ MMO_PUBLIC_URL: 'https://eu-1.game.example.org/' }, noFile).publicUrl).toBe('https://eu-1.game.example.org');
  });
});

describe('UDP address announcement', () => {
  it('rewrites host candidates in SDP and candidate lines, and leaves other candidates alone', () => {
    const sdp = [
      'a=candidate:1 1 UDP 2122317823 10.1.2.3 20000 typ host',
      'a=candidate:2 1 UDP 2122317567 172.17.0.5 20000 typ host',
      'a=candidate:3 1 UDP 1686052607 198.51.100.4 20000 typ srflx raddr 10.1.2.3 rport 20000',
    ].join('\r\n');
    expect(announceCandidates(sdp, '203.0.113.7').split('\r\n')).toEqual([
      'a=candidate:1 1 UDP 2122317823 203.0.113.7 20000 typ host',
      'a=candidate:2 1 UDP 2122317567 203.0.113.7 20000 typ host',
      'a=candidate:3 1 UDP 1686052607 198.51.100.4 20000 typ srflx raddr 10.1.2.3 rport 20000',
    ]);
    expect(announceCandidates('candidate:1 1 udp 2122317823 10.1.2.3 20000 typ host', '203.0.113.7')).toBe(
      'candidate:1 1 udp 2122317823 203.0.113.7 20000 typ host',
    );
  });
});
