import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { migratePostgres, openPostgresStore } from '../../server/src/store/postgres.ts';
import { openPgliteStore } from '../../server/src/store/pglite.ts';
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
