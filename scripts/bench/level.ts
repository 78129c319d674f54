/**
 * One benchmark level, as bench:ccu and bench:cpu run it: a fresh game server (`server/src/main.ts`
 * of this checkout or of another one, with embedded defaults, data in memory) pinned to one core
 * with taskset, the load generator *of the same checkout* pinned to the other (a server only speaks
 * its own protocol version), its JSON report read back, the server stopped and its output kept.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV } from '../../contract/env.ts';
import type { TransportName } from '../../contract/ports.ts';
import type { LoadReport } from '../../client/loadtest/report.ts';
import { nodeBinary, startGameServer } from '../lib/game-server.ts';

export interface LevelSpec {
  /** The checkout whose server and generator run. */
  readonly root: string;
  /** Names the result files: `<outDir>/<label>.json` and `.server.log`. */
  readonly label: string;
  readonly outDir: string;
  readonly transport: TransportName;
  readonly players: number;
  readonly durationS: number;
  /** Extra server environment (names from contract/env.ts), e.g. the send profile. */
  readonly env?: Readonly<Record<string, string>>;
  readonly serverCpu: string;
  readonly genCpu: string;
  readonly workers: string;
  /** Extra node flags for the server (--cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Wait before starting until the machine is this quiet (see waitForQuiet); none when absent. */
  readonly quiet?: QuietGate;
}

/**
 * Start a level only once the rest of the machine is quiet: at most `maxBusyPercent` of all cores
 * busy over a 3 s sample, waiting at most `maxWaitS` (then the level runs anyway, and its
 * `busyBefore` says how busy the machine was).
 */
export interface QuietGate {
  readonly maxBusyPercent: number;
  readonly maxWaitS: number;
}

export interface LevelResult {
  /** The generator's report; null when it failed. */
  readonly report: LoadReport | null;
  /** 1, 5 and 15 minute load averages before the server started. */
  readonly loadBefore: number[];
  /** % of all cores busy over the last 3 s before the server started (with a quiet gate), else null. */
  readonly busyBefore: number | null;
}

/** Busy and total jiffies of all CPUs together, from /proc/stat. */
async function cpuJiffies(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** % of all cores busy over the next `ms`. */
export async function busyPercent(ms = 3000): Promise<number> {
  const a = await cpuJiffies();
  await new Promise((r) => setTimeout(r, ms));
  const b = await cpuJiffies();
  return b.total > a.total ? Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 10 : 0;
}

/** Waits (bounded) until the machine is as quiet as `gate` asks; returns the last busy %. */
export async function waitForQuiet(gate: QuietGate, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const until = performance.now() + gate.maxWaitS * 1000;
  let busy = await busyPercent();
  while (busy > gate.maxBusyPercent && performance.now() < until) {
    log(`machine ${busy} % busy (want ≤ ${gate.maxBusyPercent} %), waiting`);
    busy = await busyPercent();
  }
  if (busy > gate.maxBusyPercent) log(`machine still ${busy} % busy after ${gate.maxWaitS} s: running anyway`);
  return busy;
}

/** The machine's load averages, rounded. */
export function loadNow(): number[] {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}

/** Seconds over which bots connect: WebRTC handshakes cost the server far more than WebSocket ones. */
export function rampSeconds(transport: TransportName, players: number): number {
  return Math.max(5, Math.ceil(players / (transport === 'ws' ? 250 : 40)));
}

/** Runs the level; never throws for a failed generator (the report is null then). */
export async function runLevel(spec: LevelSpec): Promise<LevelResult> {
  const busyBefore = spec.quiet ? await waitForQuiet(spec.quiet) : null;
  const loadBefore = loadNow();
  let server: Awaited<ReturnType<typeof startGameServer>>;
  try {
    server = await startGameServer({
      root: spec.root,
      cpus: spec.serverCpu,
      env: { [ENV.maxPlayers.name]: String(spec.players + 100), [ENV.logLevel.name]: 'warn', ...spec.env },
      nodeArgs: spec.nodeArgs ?? [],
      // A busy machine can take long to start a server; the level is what is measured, not that.
      readyTimeoutMs: 120_000,
    });
  } catch (err) {
    // One level that could not start is a missing row, not a lost benchmark.
    process.stderr.write(`${spec.label}: ${err instanceof Error ? err.message : String(err)}\n`);
    await writeFile(join(spec.outDir, `${spec.label}.server.log`), String(err));
    return { report: null, loadBefore, busyBefore };
  }
  const file = join(spec.outDir, `${spec.label}.json`);
  let report: LoadReport | null;
  try {
    report = await generator(
      spec,
      [
        '--url', server.url, '--metrics-url', server.metricsUrl, '--transport', spec.transport,
        '--players', String(spec.players), '--duration', String(spec.durationS), '--ramp', String(rampSeconds(spec.transport, spec.players)),
        '--workers', spec.workers, '--server-pid', String(server.process.pid), '--quiet', '--json', file,
      ],
      file,
    );
  } finally {
    await server.stop(15_000);
    await writeFile(join(spec.outDir, `${spec.label}.server.log`), server.output());
  }
  return { report, loadBefore, busyBefore };
}

/** Runs the checkout's load generator pinned to the generator core; resolves with its report. */
function generator(spec: LevelSpec, argv: string[], file: string): Promise<LoadReport | null> {
  return new Promise((resolve) => {
    const child = spawn('taskset', ['-c', spec.genCpu, nodeBinary(), join(spec.root, 'client', 'loadtest', 'main.ts'), ...argv], {
      cwd: spec.root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', async () => {
      try {
        resolve(JSON.parse(await readFile(file, 'utf8')) as LoadReport);
      } catch {
        resolve(null);
      }
    });
  });
}
