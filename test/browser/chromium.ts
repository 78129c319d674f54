/**
 * Headless Chromium from Debian (`chromium`), driven by playwright-core, with the flags DESIGN.md
 * lists and a fresh profile directory per launch under .tmp/.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** Throws with the fix when Debian's chromium is not installed. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `browser tests need Debian's chromium at ${CHROMIUM}: run scripts/setup/system-packages.sh ` +
        `(or apt-get install -y chromium); npx playwright install does not work on these machines`,
    );
  }
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a profile of its own; close() removes the profile. */
export async function launch(): Promise<Browser> {
  requireChromium();
  const base = join(PROJECT_ROOT, '.tmp', 'chromium');
  await mkdir(base, { recursive: true });
  const profile = await mkdtemp(join(base, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 720 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
