import path from 'node:path';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import pg from 'pg';
import { PACKAGE_ROOT } from '../package-root.ts';
import type { Database } from './client.ts';

export const MIGRATIONS_FOLDER = path.join(PACKAGE_ROOT, 'migrations');

/** Any 64-bit number works; it only has to be the same for every Openroll process. */
const MIGRATION_LOCK = 7_346_112_019;

/**
 * Applies the committed SQL migrations. On a server it holds an advisory lock on one dedicated
 * connection so that servers starting together do not race each other (the embedded database
 * has one owner, which serializes its connections anyway).
 */
export async function runMigrations(database: Database): Promise<void> {
  if (!database.connection) {
    await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  const client = new pg.Client(database.connection);
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migratePg(drizzlePg({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}
