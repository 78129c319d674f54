// Rig lifecycle: up is idempotent, two checkouts' rigs run side by side, down stops exactly its own
// processes, and a broken rig is restarted by the next up.
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { down, status, up } from '../../scripts/rig/rig.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import { clients, eventually, uniqueName } from './kube.ts';

const rig = inject('rig');
// A second "checkout": its own state directory, as another worktree would have.
const otherDir = join(PROJECT_ROOT, '.tmp', uniqueName('rig-other'));

/** True while the process exists and has not exited (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

afterAll(async () => {
  await down({ stateDir: otherDir });
  await rm(otherDir, { recursive: true, force: true });
  await rm(`${otherDir}.lock`, { force: true });
  await rm(`${otherDir}.lock.holder`, { force: true });
});

describe('rig lifecycle', () => {
  it('reuses the running rig when `up` is called again', async () => {
    const again = await up();
    expect(again.reused).toBe(true);
    expect(again.server).toBe(rig.server);
    expect(again.kubeconfig).toBe(rig.kubeconfig);
  });

  it("runs a second checkout's rig beside this one, and its `down` stops only its own processes", async () => {
    const other = await up({ stateDir: otherDir });
    expect(other.reused).toBe(false);
    expect(other.server).not.toBe(rig.server);
    const mine = await status();
    const myPids = mine.components.map((c) => c.pid);
    expect(Object.values(other.pids).some((pid) => myPids.includes(pid))).toBe(false);

    // Both answer, each with its own objects.
    const ns = uniqueName('only-in-other');
    await clients(other.kubeconfig).core.createNamespace({ body: { metadata: { name: ns } } });
    const names = (await clients(rig.kubeconfig).core.listNamespace()).items.map((n) => n.metadata?.name);
    expect(names).not.toContain(ns);

    const stopped = await down({ stateDir: otherDir });
    expect(stopped).toHaveLength(5);
    expect(Object.values(other.pids)).toHaveLength(5);
    for (const pid of Object.values(other.pids)) expect(alive(pid)).toBe(false);
    expect(existsSync(otherDir)).toBe(false);
    const after = await status();
    expect(after.state).toBe('running');
    expect(after.components.map((c) => c.pid)).toEqual(myPids);
  });

  it('restarts a rig whose component died', async () => {
    const first = await up({ stateDir: otherDir });
    process.kill(first.pids['kube-scheduler'], 'SIGKILL');
    await eventually('the killed scheduler to be gone', async () => (alive(first.pids['kube-scheduler']) ? undefined : true), 5000);
    const broken = await status({ stateDir: otherDir });
    expect(broken.state).toBe('broken');
    expect(broken.components.find((c) => c.name === 'kube-scheduler')?.running).toBe(false);
    const second = await up({ stateDir: otherDir });
    expect(second.reused).toBe(false);
    expect(Object.values(first.pids)).toHaveLength(5);
    for (const pid of Object.values(first.pids)) expect(alive(pid)).toBe(false);
    expect((await status({ stateDir: otherDir })).state).toBe('running');
  });
});
