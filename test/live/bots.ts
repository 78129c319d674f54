/**
 * Bots for the live suite: `npm run loadtest` (client/loadtest) as a child process against one
 * address, bounded in players and time, its JSON report read back. Game server pods' addresses are
 * on the live rig's bridge (blackholed off the machine), so bots reach them from here.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadReport } from '../../client/loadtest/report.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';

export interface BotRun {
  /** Resolves when the run ends (its exit code and report; the report is undefined if none was written). */
  readonly done: Promise<{ code: number; report: LoadReport | undefined; stderr: string }>;
  /** Ends the run early (SIGTERM). */
  stop(): void;
}

let runs = 0;

/** Starts `players` bots on `url` for about `durationS` seconds after they joined. */
export function startBots(url: string, players: number, durationS: number, extra: string[] = []): BotRun {
  const dir = join(PROJECT_ROOT, '.tmp', 'live-bots');
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${process.pid}-${++runs}.json`);
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'client', 'loadtest', 'main.ts'), '--url', url, '--players', String(players), '--duration', String(durationS), '--json', json, '--metrics-url', 'none', '--progress', '0', '--quiet', ...extra],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Bounded whatever happens: the run's own watchdog, then this.
  const kill = setTimeout(() => child.kill('SIGKILL'), (durationS + 90) * 1000);
  const done = new Promise<{ code: number; report: LoadReport | undefined; stderr: string }>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(kill);
      let report: LoadReport | undefined;
      try {
        report = JSON.parse(readFileSync(json, 'utf8')) as LoadReport;
      } catch {
        report = undefined;
      }
      resolve({ code: code ?? 1, report, stderr });
    });
  });
  return { done, stop: () => child.kill('SIGTERM') };
}
