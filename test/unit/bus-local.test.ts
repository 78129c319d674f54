import { LocalBus, LocalBusHub } from '../../server/src/bus/local.ts';
import { describeBus } from '../conformance/bus.ts';

describeBus('local (in-process)', async () => {
  const hub = new LocalBusHub();
  return { connect: async () => new LocalBus({ hub }), dispose: async () => {} };
});
