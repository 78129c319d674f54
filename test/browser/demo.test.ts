/**
 * The demo page in real headless Chromium against a real server process: it connects (UDP when the
 * server offers it, TCP when not), walks with the keyboard, and chats; the server's /metrics and a
 * second player (a Node GameClient over WebSocket) observe it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ENV } from '../../contract/env.ts';
import { METRICS } from '../../contract/metrics.ts';
import { GameClient } from '../../client/game-client.ts';
import type { PageStatus } from '../../server/web/src/main.ts';
import { NodeWebSocketImpl } from '../../client/node.ts';
import { guestToken } from '../../client/loadtest/worker.ts';
import { metricValue, startGameServer, type GameServer } from '../../scripts/lib/game-server.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';
import { launch, type Browser } from './chromium.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function status(page: Page): Promise<PageStatus> {
  return page.evaluate(() => (window as unknown as { mmo: PageStatus }).mmo);
}

/** Polls `fn` until it returns a truthy value, or fails with the last value seen. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openDemo(server: GameServer): Promise<{ page: Page; browser: Browser; logs: string[] }> {
  const browser = await launch();
  cleanups.push(() => browser.close());
  const page = await browser.context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  const res = await page.goto(server.url + '/');
  expect(res?.status(), 'the server serves the demo page at /').toBe(200);
  return { page, browser, logs };
}

/** A second player over WebSocket in the browser player's zone, collecting the chat it hears. */
async function observer(server: GameServer, zone: number): Promise<{ client: GameClient; chats: { fromId: number; text: string }[] }> {
  const client = await GameClient.connect({
    url: server.url,
    token: await guestToken(server.url, 5000),
    transport: 'ws',
    WebSocket: NodeWebSocketImpl,
  });
  cleanups.push(async () => client.close());
  if (client.welcome.zone !== zone) {
    client.join(zone);
    await client.next('joined', 5000);
  }
  const chats: { fromId: number; text: string }[] = [];
  client.on('chat', (m) => chats.push({ fromId: m.fromId, text: m.text }));
  return { client, chats };
}

async function playAndCheck(server: GameServer, page: Page, transport: 'udp' | 'ws', logs: string[]): Promise<GameClient> {
  const s = await until('the page to be playing', async () => {
    const st = await status(page);
    return st.state === 'playing' ? st : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\nbrowser console:\n${logs.join('\n')}\nserver output:\n${server.output().slice(-3000)}`);
  });
  expect(s.transport).toBe(transport);
  await expect.poll(() => page.textContent('#transport')).toBe(transport === 'udp' ? 'UDP (WebRTC)' : 'TCP (WebSocket)');
  // The server counts players by transport (refreshed every second).
  await expect.poll(() => metricValue(server, METRICS.activePlayers.name, { transport }), { timeout: 5000 }).toBe(1);

  const watcher = await observer(server, s.zone);
  // New characters start in the town, in view of each other: the page shows the second player.
  await expect.poll(() => status(page).then((st) => st.visible), { timeout: 5000 }).toBe(2);
  await expect.poll(() => page.textContent('#visible')).toBe('1');
  const movesBefore = await metricValue(server, METRICS.messagesIn.name, { type: 'move', transport });

  // Walk right with the keyboard for a second.
  await page.focus('#world');
  await page.keyboard.down('ArrowRight');
  await page.waitForTimeout(1000);
  await page.keyboard.up('ArrowRight');
  const moved = await until('moves to be acknowledged', async () => {
    const st = await status(page);
    return st.acks >= 3 ? st : undefined;
  });
  expect(moved.x).toBeGreaterThan(s.x);
  expect(moved.y).toBeCloseTo(s.y, 3);
  // The server saw the moves arrive over this transport…
  await expect
    .poll(() => metricValue(server, METRICS.messagesIn.name, { type: 'move', transport }), { timeout: 5000 })
    .toBeGreaterThanOrEqual(movesBefore + 3);

  // …and relays the chat box to another player in the zone.
  const text = `hello over ${transport} ${Date.now()}`;
  await page.fill('#chat-input', text);
  await page.press('#chat-input', 'Enter');
  await expect.poll(() => watcher.chats.find((c) => c.text === text), { timeout: 5000 }).toEqual({ fromId: s.playerId, text });
  await expect.poll(() => page.locator('#chat-log').textContent(), { timeout: 5000 }).toContain(text);

  // The measured RTT is shown once a ping or ack came back.
  await expect.poll(() => status(page).then((st) => st.rttMs), { timeout: 5000 }).toBeGreaterThan(0);
  await expect.poll(() => page.textContent('#rtt')).toMatch(/^\d+(\.\d)? ms$/);
  expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);

  await mkdir(join(PROJECT_ROOT, '.tmp'), { recursive: true });
  await page.screenshot({ path: join(PROJECT_ROOT, '.tmp', `demo-${transport}.png`) });
  return watcher.client;
}

describe('demo page in Chromium', () => {
  it('plays over UDP when the server offers it: moves and chat reach the server', async () => {
    const server = await startGameServer();
    cleanups.push(() => server.stop());
    const { page, logs } = await openDemo(server);
    await playAndCheck(server, page, 'udp', logs);
    // A retried UDP attempt is allowed (bursts lose a few handshakes); a TCP attempt is not.
    expect((await status(page)).connectLog.filter((l) => l.startsWith('TCP'))).toEqual([]);
  });

  it('falls back to TCP when UDP is disabled, and plays the same', async () => {
    const server = await startGameServer({ env: { [ENV.udpEnabled.name]: 'false' } });
    cleanups.push(() => server.stop());
    const { page, logs } = await openDemo(server);
    await playAndCheck(server, page, 'ws', logs);
    const log = (await status(page)).connectLog;
    expect(log.length, 'the page tried UDP first').toBeGreaterThan(0);
    expect(log[0]).toMatch(/^UDP attempt 1 failed/);
  });

  it('plays under the mmo send profile at 10 Hz, drawing another player between snapshots', async () => {
    const server = await startGameServer({ env: { [ENV.udpEnabled.name]: 'false', [ENV.sendProfile.name]: 'mmo', [ENV.patchRate.name]: '10' } });
    cleanups.push(() => server.stop());
    const { page, logs } = await openDemo(server);
    const other = await playAndCheck(server, page, 'ws', logs);
    expect(await status(page)).toMatchObject({ sendProfile: 'mmo', patchRate: 10 });

    // The other player walks east for a second and a half, a move every 100 ms.
    let x = other.welcome.x;
    const walk = setInterval(() => other.move(Math.min(other.welcome.zoneSize, (x += 2)), other.welcome.y), 100);
    cleanups.push(async () => clearInterval(walk));
    await until('the other player among those the page draws', async () =>
      (await page.evaluate((id) => (window as unknown as { mmo: PageStatus }).mmo.others.some((o) => o.id === id), other.welcome.playerId)) ? true : undefined,
    );
    const drawn = await page.evaluate(
      (id) =>
        new Promise<{ xs: number[]; snapshots: number }>((resolve) => {
          const mmo = (window as unknown as { mmo: PageStatus }).mmo;
          const xs: number[] = [];
          const first = mmo.snapshots;
          const started = performance.now();
          const sample = (): void => {
            const x = mmo.others.find((o) => o.id === id)?.x;
            if (x !== undefined && x !== xs.at(-1)) xs.push(x);
            if (performance.now() - started < 1500) requestAnimationFrame(sample);
            else resolve({ xs, snapshots: mmo.snapshots - first });
          };
          requestAnimationFrame(sample);
        }),
      other.welcome.playerId,
    );
    clearInterval(walk);
    // About 15 snapshots arrived. Drawn straight from them, the player could change place at most once
    // per snapshot; it was drawn at more places than that, always further east: it glided between
    // them instead of jumping (how many more depends on the frame rate headless Chromium gives).
    expect(drawn.snapshots).toBeGreaterThan(5);
    expect(drawn.snapshots).toBeLessThanOrEqual(17);
    expect(drawn.xs.length).toBeGreaterThan(drawn.snapshots + 3);
    for (let i = 1; i < drawn.xs.length; i++) expect(drawn.xs[i]!).toBeGreaterThan(drawn.xs[i - 1]! - 0.02);
    expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});

describe('demo page keyboard', () => {
  it('keeps the arrow keys for the world while it has focus: the page does not scroll and the status bar stays in view', async () => {
    const server = await startGameServer({ env: { [ENV.udpEnabled.name]: 'false' } });
    cleanups.push(() => server.stop());
    const { page, logs } = await openDemo(server);
    // A window shorter than the page, as on a laptop: the page can scroll, so arrow keys could scroll it.
    await page.setViewportSize({ width: 900, height: 420 });
    const s = await until('the page to be playing', async () => {
      const st = await status(page);
      return st.state === 'playing' ? st : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nbrowser console:\n${logs.join('\n')}\nserver output:\n${server.output().slice(-3000)}`);
    });
    const view = () =>
      page.evaluate(() => ({
        scrollY: window.scrollY,
        scrollable: document.documentElement.scrollHeight - window.innerHeight,
        statusBarTop: document.querySelector('header')!.getBoundingClientRect().top,
        focus: document.activeElement?.id,
      }));
    const start = await view();
    expect(start.scrollable, 'the page is taller than the window').toBeGreaterThan(100);
    // The page gave the world focus when it started playing, without scrolling the status bar away.
    expect(start).toMatchObject({ scrollY: 0, statusBarTop: 0, focus: 'world' });

    // Each arrow key, held then released: the player walks, the page stays where it was.
    for (const key of ['ArrowDown', 'ArrowRight', 'ArrowUp', 'ArrowLeft', 'ArrowDown']) {
      await page.keyboard.down(key);
      await page.waitForTimeout(200);
      await page.keyboard.up(key);
    }
    await until('the walk to be acknowledged', async () => ((await status(page)).acks >= 5 ? true : undefined));
    const walked = await status(page);
    expect(Math.hypot(walked.x - s.x, walked.y - s.y), 'the arrow keys moved the player').toBeGreaterThan(0);
    expect(await view()).toMatchObject({ scrollY: 0, statusBarTop: 0, focus: 'world' });
    expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});
