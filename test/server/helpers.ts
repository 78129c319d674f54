// Helpers shared by the server suite's files.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';

/** A new empty database on the suite's PostgreSQL; returns its URL. */
export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = inject('services').DATABASE_URL;
  const name = `mmo_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const client = new pg.Client(admin);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Deletes every Redis key under `prefix` (a test's own namespace). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length) await admin.del(...keys);
  await admin.quit();
}
