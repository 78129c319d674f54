/** The root of this checkout: every script and test resolves the repository's paths from here. */
import { resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
