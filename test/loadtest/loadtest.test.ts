/**
 * `npm run loadtest` against a real server process on loopback: a few bots for a few seconds, over
 * WebSocket and over UDP, and the JSON report must add up. Also the chart's helm test command line
 * exactly as the chart renders it, and --check failing, naming each condition, when the server turns
 * bots away and the limits are missed.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { EXIT } from '../../contract/exit-codes.ts';
import type { LoadReport } from '../../client/loadtest/report.ts';
import { nodeBinary, startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';
import { freeTcpPort } from '../../scripts/lib/ports.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import { ensureHelm } from '../../scripts/setup/helm.ts';
import { render, testPodCommand } from '../support/chart.ts';

const MAIN = join(PROJECT_ROOT, 'client', 'loadtest', 'main.ts');
const OUT = join(PROJECT_ROOT, '.tmp', 'loadtest-test');

function run(args: string[], timeoutMs = 60_000, script = MAIN): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary(), [script, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loadtest ran longer than ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

async function report(file: string): Promise<LoadReport> {
  return JSON.parse(await readFile(file, 'utf8')) as LoadReport;
}

/** What must hold for any healthy run of `players` bots. */
function expectConsistent(r: LoadReport, players: number, transport: 'ws' | 'udp'): void {
  expect(r.version).toBe(2);
  expect(r.config).toMatchObject({ transport, players });
  expect(r.ccu).toEqual({ target: players, atEnd: players, minInWindow: players, acked: players });
  expect(r.connect.failures).toBe(0);
  expect(r.connect.attempts).toBe(players);
  expect(r.connect.disconnects).toBe(0);
  // About 10 moves per bot per second; allow for the window's edges and a slow machine.
  const expected = players * 10 * r.windowS;
  expect(r.moves.sent).toBeGreaterThan(expected * 0.6);
  expect(r.moves.sent).toBeLessThan(expected * 1.2);
  expect(r.moves.acked).toBeGreaterThan(r.moves.sent * 0.9);
  expect(r.rtt.samples).toBe(r.moves.acked);
  expect(r.rtt.p50Ms).toBeGreaterThan(0);
  expect(r.rtt.p50Ms).toBeLessThanOrEqual(r.rtt.p95Ms);
  expect(r.rtt.p95Ms).toBeLessThanOrEqual(r.rtt.p99Ms);
  expect(r.rtt.p99Ms).toBeLessThanOrEqual(r.rtt.maxMs);
  expect(r.messages.out.move).toBe(r.moves.sent);
  expect(r.messages.in.ack).toBe(r.moves.acked);
  expect(r.messages.in.snapshot ?? 0).toBeGreaterThan(0);
  expect(r.messages.outPerS).toBeGreaterThan(0);
  expect(r.messages.inPerS).toBeGreaterThan(0);
  expect(r.messages.bytesInPerS).toBeGreaterThan(0);
  expect(r.serverError).toBeNull();
  expect(r.server).not.toBeNull();
  expect(r.server!.ticks).toBeGreaterThan(0);
  expect(r.server!.tickP99Ms).not.toBeNull();
  expect(r.server!.activePlayers).toBe(players);
  expect(r.check).toMatchObject({ passed: true, failures: [] });
}

describe('load generator against a real server', () => {
  let server: GameServer;
  beforeAll(async () => {
    await rm(OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });
    server = await startGameServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs WebSocket bots on two worker threads and writes a consistent report', async () => {
    const file = join(OUT, 'ws.json');
    const r = await run([
      '--url', `ws://127.0.0.1:${server.ports.game}/ws`, '--metrics-url', server.metricsUrl,
      '--players', '6', '--transport', 'ws', '--duration', '3', '--ramp', '1', '--workers', '2',
      '--server-pid', String(server.process.pid), '--json', file, '--check', '--check-rtt-p95', '1000', '--check-metrics', '--quiet',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/move→ack p50\/p95\/p99/);
    const rep = await report(file);
    expectConsistent(rep, 6, 'ws');
    expect(rep.check.limits).toEqual({ rttP95Ms: 1000, errors: ['internal', 'unavailable'], keptUp: false, metrics: true });
    expect(rep.config.workers).toBe(2);
    expect(rep.server!.cpuPercent).toBeGreaterThan(0);
  });

  it('runs UDP bots and writes a consistent report', async () => {
    const file = join(OUT, 'udp.json');
    const r = await run([
      '--url', server.url, '--metrics-url', server.metricsUrl,
      // WebRTC handshakes are slow on a machine busy with other suites (the game suite's connect
      // bursts): more attempts than the default, so a slow handshake is not counted as a lost bot.
      '--players', '4', '--transport', 'udp', '--duration', '3', '--ramp', '1', '--connect-retries', '4', '--json', file, '--check', '--quiet',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(EXIT.ok);
    expectConsistent(await report(file), 4, 'udp');
  });

  it("passes the chart's `helm test` command line, exactly as the chart renders it", async () => {
    const argv = testPodCommand(await render(await ensureHelm(4)));
    // The image's working directory is the repository's layout (server/Dockerfile): the same script.
    expect(argv.slice(0, 2)).toEqual(['node', 'client/loadtest/main.ts']);
    // Only the address changes: the game Service's DNS name becomes this server's.
    const url = argv.indexOf('--url') + 1;
    expect(argv[url]).toMatch(/^ws:\/\/game-mmo-server\.mmo\.svc:8080\/ws$/);
    const args = argv.slice(2).map((a, i) => (i + 2 === url ? `ws://127.0.0.1:${server.ports.game}/ws` : a));
    const r = await run(args, 60_000, argv[1]);
    expect(r.code, r.stdout + r.stderr).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/check\s+passed \(every bot joined and got acks, move→ack p95 ≤ 100 ms, no internal or unavailable errors\)/);
    expect(r.stdout).toMatch(/server tick p50\/p99\s+n\/a \(not read \(--metrics-url none\)\)/);
  });
});

describe('load generator --check', () => {
  it('fails with exit 3 and names each condition missed: bots turned away, their error code, the latency limit, unreadable metrics', async () => {
    const full = await startGameServer({ env: { [ENV.maxPlayers.name]: '2' } });
    try {
      const file = join(OUT, 'full.json');
      await mkdir(OUT, { recursive: true });
      // A port nothing listens on: the metrics read is refused. No loopback round trip is as short as 1 µs.
      const closed = await freeTcpPort();
      const r = await run([
        '--url', full.url, '--metrics-url', `http://127.0.0.1:${closed}/metrics`, '--players', '3', '--duration', '2', '--json', file,
        '--check', '--check-errors', 'server_full', '--check-rtt-p95', '0.001', '--check-metrics', '--quiet',
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(EXIT.failed);
      const rep = await report(file);
      expect(rep.ccu.atEnd).toBe(2);
      expect(rep.connect.failures).toBe(1);
      expect(rep.errors.byCode.server_full).toBe(1);
      expect(rep.check.passed).toBe(false);
      expect(rep.check.failures.map((f) => f.id)).toEqual(['joined', 'connects', 'acked', 'rtt_p95', 'errors', 'metrics']);
      expect(rep.check.failures).toContainEqual({ id: 'joined', message: '2 of 3 bots were joined at the end' });
      expect(rep.check.failures).toContainEqual({ id: 'errors', message: 'the server answered with server_full ×1' });
      expect(rep.check.failures.find((f) => f.id === 'rtt_p95')?.message).toMatch(/^move→ack p95 was [\d.]+ ms, above the limit of 0\.001 ms$/);
      expect(rep.check.failures.find((f) => f.id === 'metrics')?.message).toBe(`the server's metrics could not be read: GET http://127.0.0.1:${closed}/metrics: fetch failed (ECONNREFUSED)`);
      expect(r.stdout).toMatch(/check\s+FAILED: joined: 2 of 3 bots .*; rtt_p95: .*; errors: the server answered with server_full ×1; metrics: /);
    } finally {
      await full.stop();
    }
  });

  it('refuses bad flags with exit 2, naming the flag', async () => {
    const r = await run(['--url', 'ws://127.0.0.1:1/ws', '--players', 'many']);
    expect(r.code).toBe(EXIT.invalidInput);
    expect(r.stderr).toMatch(/--players: expected a whole number/);
  });
});
