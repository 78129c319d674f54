/** Browser suite setup: Chromium must be installed, and the demo page is built fresh. */
import { buildWeb } from '../../scripts/build-web.ts';
import { requireChromium } from './chromium.ts';

export default async function setup(): Promise<void> {
  requireChromium();
  await buildWeb();
}
