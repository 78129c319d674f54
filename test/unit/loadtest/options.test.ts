import { describe, expect, it } from 'vitest';
import { UsageError, parseOptions, serverBaseUrl } from '../../../client/loadtest/options.ts';

describe('load generator flags', () => {
  it('take a one-bot smoke run with the defaults (the chart suite parses what its test pod passes)', () => {
    const o = parseOptions(['--url', 'ws://mmo-game:8080/ws', '--transport', 'ws', '--players', '1', '--duration', '5', '--ramp', '0', '--check']);
    expect(o).toMatchObject({ serverUrl: 'http://mmo-game:8080', transport: 'ws', players: 1, durationS: 5, rampS: 0, check: true });
    expect(o.metricsUrl).toBe('http://mmo-game:9090/metrics');
    expect(o.limits).toEqual({ rttP95Ms: undefined, errors: ['internal', 'unavailable'], keptUp: false, metrics: false });
    expect(o.scenario).toEqual({ moveMs: 100, chatMs: 5000, attackMs: 2000 });
    expect(o.chatChannel).toBe('say'); // nearby chat unless asked otherwise
    expect(parseOptions(['--url', 'ws://h/ws', '--chat', 'zone']).chatChannel).toBe('zone');
    expect(() => parseOptions(['--url', 'ws://h/ws', '--chat', 'shout'])).toThrow(/--chat: expected say, zone, global or none/);
  });

  it('turn every URL form into the server base URL', () => {
    expect(serverBaseUrl('ws://127.0.0.1:8080/ws')).toBe('http://127.0.0.1:8080');
    expect(serverBaseUrl('wss://game.example/ws')).toBe('https://game.example');
    expect(serverBaseUrl('http://[::1]:9000/')).toBe('http://[::1]:9000');
    expect(parseOptions(['--url', 'http://[::1]:9000']).metricsUrl).toBe('http://[::1]:9090/metrics');
  });

  it.each([
    [['--players', '10'], /--url: required/],
    [['--url', 'ftp://x'], /--url: expected ws, wss, http or https/],
    [['--url', 'not a url'], /--url: expected a URL/],
    [['--url', 'ws://h/ws', '--players', '0'], /--players: expected a whole number from 1 to 20000, got "0"/],
    [['--url', 'ws://h/ws', '--players', '2.5'], /--players/],
    [['--url', 'ws://h/ws', '--transport', 'tcp'], /--transport: expected ws or udp, got "tcp"/],
    [['--url', 'ws://h/ws', '--duration', '-1'], /--duration/],
    [['--url', 'ws://h/ws', '--chat-ms', '5050'], /whole multiples of moveMs/],
    [['--url', 'ws://h/ws', '--zones', '0,x'], /--zones/],
    [['--url', 'ws://h/ws', '--metrics-url', '::'], /--metrics-url/],
    [['--url', 'ws://h/ws', '--bogus'], /bogus/],
    [['--url', 'ws://h/ws', '--check-rtt-p95', '0'], /--check-rtt-p95: expected milliseconds above 0/],
    [['--url', 'ws://h/ws', '--check-rtt-p95', 'fast'], /--check-rtt-p95/],
    [['--url', 'ws://h/ws', '--check-errors', 'internal,oops'], /--check-errors: expected "none" or a comma list of bad_frame, .*connect_failed; got "internal,oops"/],
    [['--url', 'ws://h/ws', '--check-errors', ''], /--check-errors/],
    [['--url', 'ws://h/ws', '--metrics-url', 'none', '--check-metrics'], /--check-metrics: the server's \/metrics is not read with --metrics-url none/],
  ])('refuse %j naming the flag', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('read the --check limits', () => {
    const o = parseOptions(['--url', 'ws://h/ws', '--check', '--check-rtt-p95', '12.5', '--check-errors', 'internal, server_full,connect_failed', '--check-kept-up', '--check-metrics']);
    expect(o.limits).toEqual({ rttP95Ms: 12.5, errors: ['internal', 'server_full', 'connect_failed'], keptUp: true, metrics: true });
    expect(parseOptions(['--url', 'ws://h/ws', '--check-errors', 'none']).limits.errors).toEqual([]);
  });

  it('skip /metrics with "none" and read zone lists', () => {
    const o = parseOptions(['--url', 'ws://h:1/ws', '--metrics-url', 'none', '--zones', '0, 2', '--transport', 'udp']);
    expect(o.metricsUrl).toBeUndefined();
    expect(o.zones).toEqual([0, 2]);
    expect(o.connectConcurrency).toBe(16);
  });
});
