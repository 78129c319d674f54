/**
 * The processes a rig runs, and exactly those: each is started detached with its log in
 * `<state>/logs`, recorded in `<state>/state.json` with its PID and its start time from /proc (so a
 * PID the system reused for something else is never signalled), and stopped by that record only.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RigBinaries, RigBinary } from './build.ts';
import type { LiveState } from './live/state.ts';

/** The rig's components, in the order they start. */
export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const satisfies readonly RigBinary[];
/** What a live rig runs besides: its kubelet for process pods, Prometheus, and what configures Prometheus. */
export const LIVE_COMPONENTS = ['kubelet', 'prometheus', 'prometheus-operator'] as const;
export type Component = (typeof COMPONENTS)[number] | (typeof LIVE_COMPONENTS)[number];

/** The components a rig with this state must run. */
export function expectedComponents(state: Pick<StateFile, 'live'>): readonly Component[] {
  return state.live ? [...COMPONENTS, ...LIVE_COMPONENTS] : COMPONENTS;
}

/** One process the rig started; `startTicks` (from /proc) tells a reused PID from ours. */
export interface ProcessRecord {
  readonly name: Component;
  readonly pid: number;
  readonly startTicks: number;
  readonly exe: string;
}

/** What `up` records in `<state>/state.json` (written as each process starts, so `down` can stop a half-started rig). */
export interface StateFile {
  readonly format: 1;
  readonly server: string;
  readonly ports: Record<string, number>;
  readonly processes: ProcessRecord[];
  readonly versions: RigBinaries['manifest']['versions'];
  readonly startedAt: string;
  /** Hash of what decides the rig's behaviour (how it starts, kwok.yaml, binary versions): see rigRecipe() in rig.ts. */
  readonly recipe: string;
  ready?: { readonly atMs: number };
  /** A live rig's network and ports (absent on a rig whose pods never run). */
  live?: LiveState;
}

/** The recorded state of the rig in `stateDir`, if any. */
export async function readState(stateDir: string): Promise<StateFile | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

/** Records `state` atomically. */
export async function writeState(stateDir: string, state: StateFile): Promise<void> {
  await writeFile(join(stateDir, 'state.json.tmp'), JSON.stringify(state, null, 2));
  await rename(join(stateDir, 'state.json.tmp'), join(stateDir, 'state.json'));
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined if no such process. */
export function procStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const st = fields[0];
    if (st === 'Z' || st === 'X') return undefined; // exited, not yet reaped
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** True while the recorded process still runs (same PID, same start time). */
export function isOurs(p: ProcessRecord): boolean {
  return procStartTicks(p.pid) === p.startTicks;
}

/** Resident memory of `pid` in KiB; 0 when it does not run. */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The last `lines` lines of a component's log. */
export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A process just started: its record, its exit while we watch, and its log. */
export interface Started {
  readonly record: ProcessRecord;
  /** Resolves with the exit code if the process exits (while we are still watching). */
  readonly exited: Promise<number | null>;
  readonly logFile: string;
}

/** Starts `bin` detached, its output appended to `<logDir>/<name>.log`, and records its start time. */
export async function startProcess(name: Component, bin: string, args: string[], logDir: string): Promise<Started> {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? -1 : null)));
  });
  exited.catch(() => {});
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${bin}: ${await exited.catch((e: Error) => e.message)}`);
  let startTicks: number | undefined;
  for (let i = 0; i < 50 && startTicks === undefined; i++) {
    startTicks = procStartTicks(pid);
    if (startTicks === undefined) await sleep(10);
  }
  const exe = await readlink(`/proc/${pid}/exe`).catch(() => bin);
  return { record: { name, pid, startTicks: startTicks ?? -1, exe }, exited, logFile };
}

/**
 * SIGTERM, then SIGKILL after 10 s, only to processes whose PID and start time match the record;
 * then forgets the record. Returns what was stopped.
 */
export async function stopProcesses(stateDir: string, state: StateFile): Promise<string[]> {
  const ours = [...state.processes].reverse().filter(isOurs);
  for (const p of ours) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (ours.some(isOurs) && Date.now() < deadline) await sleep(100);
  for (const p of ours.filter(isOurs)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  while (ours.some(isOurs) && Date.now() < deadline + 5000) await sleep(100);
  await rm(join(stateDir, 'state.json'), { force: true });
  return ours.map((p) => `${p.name} (pid ${p.pid})`);
}
