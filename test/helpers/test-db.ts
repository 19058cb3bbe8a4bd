import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate.ts';

/** Which database the suite runs on: scripts/test.mjs runs it once on each. */
export const TEST_PG_URL = process.env.OPENROLL_TEST_DATABASE_URL || undefined;
export const TEST_DB_KIND: 'pglite' | 'postgres' = TEST_PG_URL ? 'postgres' : 'pglite';

export interface TestDatabase {
  database: Database;
  /** The URL of this test's own PostgreSQL database, when on PostgreSQL. */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * What a migrated database is made of: the committed migrations and the PGlite that ran them.
 * A template is keyed by it, so a new migration (or PGlite) makes a new template, never a stale copy.
 */
const TEMPLATE_KEY = (() => {
  const hash = createHash('sha256').update('openroll-test-template-v1\0');
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full, `${rel}${name}/`);
      else hash.update(`${rel}${name}\0`).update(readFileSync(full)).update('\0');
    }
  };
  walk(MIGRATIONS_FOLDER, '');
  // The package exports no package.json; its installed copy is at the root's node_modules.
  hash.update(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url)));
  return hash.digest('hex').slice(0, 16);
})();

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_PG_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The migrated PGlite data directory as a tarball in the temporary directory, made once for
 * every test process of every run (until the migrations change): initdb in WebAssembly and the
 * migrations take seconds a file, loading the tarball a fraction of that. The first process to
 * need it takes a lock file and builds it; the others wait for it.
 */
async function pgliteTemplate(): Promise<Blob> {
  const dir = join(tmpdir(), 'openroll-test-templates');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `pglite-${TEMPLATE_KEY}.tar`);
  const lock = `${file}.lock`;
  for (let waited = 0; ; waited += 100) {
    try {
      return new Blob([readFileSync(file)]);
    } catch {
      // Not built yet.
    }
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Another process builds it; a lock older than two minutes belongs to one that died.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { force: true });
      if (waited > 300_000) throw new Error(`the PGlite test template ${file} was not built within 5 minutes`);
      await sleep(100);
      continue;
    }
    try {
      const database = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://' });
      try {
        await runMigrations(database);
        const tar = Buffer.from(await (await database.dumpMemory!()).arrayBuffer());
        const partial = `${file}.${process.pid}.partial`;
        writeFileSync(partial, tar);
        renameSync(partial, file);
        return new Blob([tar]);
      } finally {
        await database.close();
      }
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

/**
 * The migrated template database on the test server, made once per server and set of
 * migrations (under an advisory lock, built under another name and renamed, so no process ever
 * copies half of one). `CREATE DATABASE ... TEMPLATE` then copies it in a fraction of a migration.
 */
async function postgresTemplate(): Promise<string> {
  const name = `openroll_template_${TEMPLATE_KEY}`;
  await admin(async (c) => {
    await c.query('select pg_advisory_lock(7346112020)');
    try {
      const found = await c.query('select 1 from pg_database where datname = $1', [name]);
      if (found.rowCount) return;
      const building = `${name}_building`;
      await c.query(`drop database if exists ${building} with (force)`);
      await c.query(`create database ${building}`);
      const database = await openDatabase({ databaseUrl: databaseUrl(building), dataDir: '', poolSize: 2 });
      try {
        await runMigrations(database);
      } finally {
        await database.close();
      }
      await c.query(`alter database ${building} rename to ${name}`);
    } finally {
      await c.query('select pg_advisory_unlock(7346112020)');
    }
  });
  return name;
}

/** A fresh, migrated database: in-memory PGlite, or a new database on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!TEST_PG_URL) {
    const database = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://', memoryTemplate: await pgliteTemplate() });
    return { database, url: undefined, drop: () => database.close() };
  }
  const template = await postgresTemplate();
  const name = `openroll_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name} template ${template}`));
  const url = databaseUrl(name);
  const database = await openDatabase({ databaseUrl: url, dataDir: '', poolSize: 10 });
  return {
    database,
    url,
    drop: async () => {
      await database.close().catch(() => {});
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}
