import { describe, expect, it } from 'vitest';
import { StoreError } from '../../server/src/store/store.ts';
import { openWorkerStore } from '../../server/src/store/worker.ts';

const fixture = new URL('../support/worker-store-fixture.ts', import.meta.url).href;

describe('a store in a worker thread', () => {
  it('answers like the store itself, StoreError codes included', async () => {
    const store = await openWorkerStore({ module: fixture, factory: 'openMemory', args: [] });
    const account = await store.createAccount('ann', 'hash');
    expect(account.createdAt).toBeInstanceOf(Date);
    await expect(store.createAccount('ann', 'x')).rejects.toMatchObject({ name: 'StoreError', code: 'username_taken' });
    expect((await store.findAccountByUsername('ann'))?.id).toBe(account.id);
    await store.close();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreError);
  });

  it('reports the open error of the store it could not open', async () => {
    await expect(openWorkerStore({ module: fixture, factory: 'openLocked', args: ['/data'] })).rejects.toThrow('data directory /data is in use');
    await expect(openWorkerStore({ module: fixture, factory: 'nope', args: [] })).rejects.toThrow(/has no function nope/);
  });

  it('turns a dead worker into unavailable for the call in flight and every later one', async () => {
    const store = await openWorkerStore({ module: fixture, factory: 'openDying', args: [] });
    await expect(store.ping()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/exited \(3\)/) });
    await expect(store.getAccount('x')).rejects.toMatchObject({ code: 'unavailable' });
    await store.close();
  });
});
