import { localWindows } from '../../server/src/limits/rate-window.ts';
import { describeRateWindow } from '../conformance/rate-window.ts';

describeRateWindow('local (in-process)', async () => ({ windows: async (now) => localWindows(now), shared: false, dispose: async () => {} }));
