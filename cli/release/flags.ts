/** Flags of the commands that change a release (install, upgrade, rollback, uninstall). */
import { Flags } from '@oclif/core';
import { parseDuration } from '../base-command.ts';

export const applyFlags = {
  'dry-run': Flags.boolean({ default: false, summary: 'Show what would be applied (server-side when the cluster is reachable); change nothing.' }),
  'skip-preflight': Flags.boolean({ default: false, summary: 'Do not run the preflight checks first (the API server still refuses what it refuses).' }),
  timeout: Flags.string({ summary: 'How long helm waits for the release to be ready before rolling back, e.g. 90s, 10m.', default: '10m' }),
  'wait-for-players-endpoint': Flags.boolean({ default: false, summary: 'Also wait until the game Service has an address players can use (LoadBalancer).' }),
};

export const waitFlags = {
  timeout: Flags.string({ summary: 'How long to wait, e.g. 90s, 5m.', default: '5m' }),
};

export function timeoutSeconds(value: string): number {
  return parseDuration(value, '--timeout');
}
