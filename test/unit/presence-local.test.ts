import { LocalPresence, LocalPresenceState } from '../../server/src/presence/local.ts';
import { describePresence } from '../conformance/presence.ts';

describePresence('local (in-process)', async () => {
  const state = new LocalPresenceState();
  return { connect: async () => new LocalPresence({ state }), dispose: async () => {} };
});
