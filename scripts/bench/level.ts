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
}

export interface LevelResult {
  /** The generator's report; null when it failed. */
  readonly report: LoadReport | null;
  /** 1, 5 and 15 minute load averages before the server started. */
  readonly loadBefore: number[];
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
  const loadBefore = loadNow();
  const server = await startGameServer({
    root: spec.root,
    cpus: spec.serverCpu,
    env: { [ENV.maxPlayers.name]: String(spec.players + 100), [ENV.logLevel.name]: 'warn', ...spec.env },
    nodeArgs: spec.nodeArgs ?? [],
  });
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
  return { report, loadBefore };
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
