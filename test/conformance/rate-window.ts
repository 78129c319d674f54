/**
 * The behaviour every RateWindow must have. Unit tests run it over LocalRateWindow, the server suite
 * over RedisRateWindow. Time is a fake clock the test moves; windows are a minute long so that
 * Redis's own expiry (real time) never ends one during a test.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateWindows } from '../../server/src/limits/rate-window.ts';

export interface RateWindowBackend {
  /** The windows of a new client (for Redis: a new connection, as another process holds) on `now`. */
  windows(now: () => number): Promise<RateWindows>;
  /** Whether windows of different clients with the same name count the same hits. */
  readonly shared: boolean;
  /** Closes the clients and removes what the test left. */
  dispose(): Promise<void>;
}

const WINDOW = 60_000;

export function describeRateWindow(name: string, newBackend: () => Promise<RateWindowBackend>): void {
  describe(`RateWindow conformance: ${name}`, () => {
    let backend: RateWindowBackend;
    let time: number;
    const now = () => time;
    const key = () => `k-${randomUUID()}`;
    const open = async (limit: number, windowName = 'test') => (await backend.windows(now))({ name: windowName, limit, windowMs: WINDOW });

    beforeEach(async () => {
      backend = await newBackend();
      time = 1_000_000;
    });
    afterEach(() => backend.dispose());

    it('allows `limit` hits, then blocks until the oldest counted hit leaves the window', async () => {
      const w = await open(3);
      const k = key();
      for (const at of [0, 100, 200]) {
        time = 1_000_000 + at;
        expect(await w.blockedFor(k)).toBe(0);
        await w.hit(k);
      }
      expect(await w.blockedFor(k)).toBe(WINDOW - 200);
      time = 1_000_000 + WINDOW - 1;
      expect(await w.blockedFor(k)).toBe(1);
      time = 1_000_000 + WINDOW; // the hit at 0 is out: hits exactly `windowMs` old no longer count
      expect(await w.blockedFor(k)).toBe(0);
      expect(await w.take(k)).toBe(0);
      expect(await w.blockedFor(k)).toBe(100);
    });

    it('take counts only when not blocked; hit counts always and keeps the newest hits', async () => {
      const w = await open(2);
      const k = key();
      expect(await w.take(k)).toBe(0);
      time += 500;
      expect(await w.take(k)).toBe(0);
      time += 400;
      expect(await w.take(k)).toBe(WINDOW - 900);
      expect(await w.take(k)).toBe(WINDOW - 900); // the refused take counted nothing
      await w.hit(k); // counted: now the hits at 500 and 900 are the ones that count
      expect(await w.blockedFor(k)).toBe(WINDOW - 400);
    });

    it('reset forgets one key only; keys and window names are independent', async () => {
      const logins = await open(1, 'logins');
      const creates = await open(1, 'creates');
      const [a, b] = [key(), key()];
      await logins.hit(a);
      await logins.hit(b);
      expect(await creates.blockedFor(a)).toBe(0);
      await logins.reset(a);
      expect(await logins.blockedFor(a)).toBe(0);
      expect(await logins.blockedFor(b)).toBe(WINDOW);
      await logins.reset(key()); // never seen: nothing to do
    });

    it('lets exactly `limit` of many concurrent takes through', async () => {
      const clients = [await open(5), await open(5)];
      const k = key();
      // Windows of different clients share counts only when the backend does; otherwise use one.
      const pick = (i: number) => (backend.shared ? clients[i % 2]! : clients[0]!);
      const waits = await Promise.all(Array.from({ length: 40 }, (_, i) => pick(i).take(k)));
      expect(waits.filter((w) => w === 0)).toHaveLength(5);
      expect(waits.filter((w) => w === WINDOW)).toHaveLength(35);
    });

    it("sees another client's hits and resets exactly when the backend is shared", async () => {
      const [one, other] = [await open(2), await open(2)];
      const k = key();
      await one.hit(k);
      await one.hit(k);
      expect(await other.blockedFor(k)).toBe(backend.shared ? WINDOW : 0);
      await other.reset(k);
      expect(await one.blockedFor(k)).toBe(backend.shared ? 0 : WINDOW);
    });
  });
}
