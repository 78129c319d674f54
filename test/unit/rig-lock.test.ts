import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, withLock } from '../../scripts/lib/lock.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rig-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rig lock (shared by checkouts)', () => {
  it('lets only one holder in at a time and tells the waiter who holds it', async () => {
    const file = join(dir, 'build.lock');
    const order: string[] = [];
    const waits: string[] = [];
    const first = await acquireLock(file, { purpose: 'first build' });
    let told: () => void = () => {};
    const notified = new Promise<void>((resolve) => (told = resolve));
    const second = withLock(file, { purpose: 'second build', onWait: (h) => (waits.push(h), told()), waitNoticeMs: 100 }, async () => {
      order.push('second');
    });
    // Hold the lock until the waiter has been told who holds it (the first notice comes after 1 s),
    // or 10 s on a very busy machine; the assertions below then say which.
    await Promise.race([notified, sleep(10_000)]);
    order.push('first done');
    await first.release();
    await second;
    expect(order).toEqual(['first done', 'second']);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]).toContain('first build');
  }, 20_000);

  it('is released when the process holding it is killed', async () => {
    const file = join(dir, 'crash.lock');
    const lockModule = new URL('../../scripts/lib/lock.ts', import.meta.url).href;
    const script = `const { acquireLock } = await import(${JSON.stringify(lockModule)});
      await acquireLock(${JSON.stringify(file)}, { purpose: 'doomed build' });
      console.log('held');
      setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    let acquired = false;
    const holders: string[] = [];
    let told: () => void = () => {};
    const waitedOn = new Promise<void>((resolve) => (told = resolve));
    const waiting = acquireLock(file, { purpose: 'after crash', timeoutMs: 10_000, waitNoticeMs: 100, onWait: (h) => (holders.push(h), told()) }).then((l) => ((acquired = true), l));
    // Blocked by the live holder, as the waiter itself reports, not merely "not yet" after a pause.
    await waitedOn;
    expect(acquired).toBe(false);
    expect(holders[0]).toContain('doomed build');
    holder.kill('SIGKILL'); // no release() runs: only the kernel can let go of the lock
    const lock = await waiting;
    await lock.release();
  }, 20_000);

  it('gives up with a clear error after its timeout', async () => {
    const file = join(dir, 'busy.lock');
    const held = await acquireLock(file, { purpose: 'long build' });
    await expect(acquireLock(file, { purpose: 'impatient', timeoutMs: 1000 })).rejects.toThrow(/timed out after 1s waiting for the lock/);
    await held.release();
  });
});
