import { localWindows } from '../../server/src/auth/throttle.ts';
import { describeRateWindow } from '../conformance/rate-window.ts';

describeRateWindow('local (in-process)', async () => ({ windows: async (now) => localWindows(now), shared: false, dispose: async () => {} }));
