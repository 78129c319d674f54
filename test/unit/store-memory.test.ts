import { MemoryStore } from '../../server/src/store/memory.ts';
import { describeStore } from '../conformance/store.ts';

describeStore('memory', { open: async () => new MemoryStore(), durable: false });
