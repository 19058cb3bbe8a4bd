import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';

/** Which database the suite runs on: scripts/test.mjs runs it once on each. */
export const TEST_PG_URL = process.env.OPENROLL_TEST_DATABASE_URL || undefined;
export const TEST_DB_KIND: 'pglite' | 'postgres' = TEST_PG_URL ? 'postgres' : 'pglite';

export interface TestDatabase {
  database: Database;
  /** The URL of this test's own PostgreSQL database, when on PostgreSQL. */
  url: string | undefined;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database: in-memory PGlite, or a new database on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!TEST_PG_URL) {
    const database = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://' });
    await runMigrations(database);
    return { database, url: undefined, drop: () => database.close() };
  }
  const name = `openroll_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), dataDir: '', poolSize: 10 });
  await runMigrations(database);
  return {
    database,
    url: url.toString(),
    drop: async () => {
      await database.close().catch(() => {});
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}
