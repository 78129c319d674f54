import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { migratePostgres, openPostgresStore } from '../../server/src/store/postgres.ts';
import { openPgliteStore } from '../../server/src/store/pglite.ts';
import { openWorkerStore } from '../../server/src/store/worker.ts';
import { describeStore } from '../conformance/store.ts';
import { createDatabase } from './helpers.ts';

let db: Awaited<ReturnType<typeof createDatabase>> | undefined;
describeStore('PostgreSQL', {
  durable: true,
  async open() {
    db ??= await createDatabase();
    await migratePostgres(db.url);
    return openPostgresStore(db.url, { verify: true });
  },
  async dispose() {
    await db?.drop();
  },
});

const dir = join(import.meta.dirname, '../../.tmp', `pglite-${randomUUID()}`);
describeStore('PGlite (on disk)', {
  durable: true,
  open: () => openPgliteStore(dir),
  dispose: async () => rmSync(dir, { recursive: true, force: true }),
});

describeStore('PGlite (memory://)', { durable: false, open: () => openPgliteStore('memory://') });

// What `npm start` runs: PGlite in a worker thread behind the same interface.
const pglite = new URL('../../server/src/store/pglite.ts', import.meta.url).href;
const workerDir = join(import.meta.dirname, '../../.tmp', `pglite-worker-${randomUUID()}`);
describeStore('PGlite in a worker thread (on disk)', {
  durable: true,
  open: () => openWorkerStore({ module: pglite, factory: 'openPgliteStore', args: [workerDir] }),
  dispose: async () => rmSync(workerDir, { recursive: true, force: true }),
});
