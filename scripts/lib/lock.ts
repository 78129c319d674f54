/**
 * An exclusive lock between processes (and checkouts) on one machine, held by the kernel.
 *
 * We run util-linux `flock` on the lock file with a child `cat` that reads our stdin: the lock lives
 * exactly as long as that pipe is open, so it is released when we call `release()` and also when our
 * process dies for any reason — there is never a stale lock to clean up by hand.
 *
 * Callers may rely on: at most one holder per lock file at a time; `onWait` is called (at most every
 * `waitNoticeMs`) while another process holds it, with whatever that holder wrote as its note.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface HeldLock {
  /** Releases the lock; safe to call more than once. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** What the holder is doing, shown to processes that wait (e.g. "building the rig binaries"). */
  readonly purpose: string;
  /** Give up after this long (default: 2 hours). */
  readonly timeoutMs?: number;
  /** Called while waiting, with the current holder's note. */
  readonly onWait?: (holder: string) => void;
  /** How often `onWait` is called (default 30 s; the first call comes after 1 s). */
  readonly waitNoticeMs?: number;
}

/** Takes the lock on `file` (created if missing), waiting for its current holder. */
export async function acquireLock(file: string, opts: LockOptions): Promise<HeldLock> {
  await mkdir(dirname(file), { recursive: true });
  const timeoutSec = Math.ceil((opts.timeoutMs ?? 2 * 60 * 60 * 1000) / 1000);
  const child = spawn('flock', ['--exclusive', '--wait', String(timeoutSec), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const noteFile = `${file}.holder`;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));

  const locked = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('locked\n')) resolve();
    });
    child.once('error', (err) =>
      reject(new Error(`cannot run flock (util-linux) to lock ${file}: ${err.message}`, { cause: err })),
    );
    child.once('exit', (code) =>
      reject(
        new Error(
          code === 1
            ? `timed out after ${timeoutSec}s waiting for the lock ${file} (held by: ${stderr.trim() || 'see ' + noteFile})`
            : `flock on ${file} exited with code ${code}: ${stderr.trim()}`,
        ),
      ),
    );
  });

  const started = Date.now();
  let lastNotice = 0;
  const notice = setInterval(() => {
    const now = Date.now();
    const every = opts.waitNoticeMs ?? 30_000;
    if (now - started < 1000 || (lastNotice !== 0 && now - lastNotice < every)) return;
    lastNotice = now;
    void readFile(noteFile, 'utf8')
      .catch(() => 'unknown holder')
      .then((holder) => opts.onWait?.(holder.trim()));
  }, 500);
  try {
    await locked;
  } catch (err) {
    child.kill();
    throw err;
  } finally {
    clearInterval(notice);
  }
  await writeFile(noteFile, `pid ${process.pid} since ${new Date().toISOString()}: ${opts.purpose}\n`);

  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      child.stdin.end();
      await exited;
    },
  };
}

/** Runs `fn` while holding the lock on `file`. */
export async function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
