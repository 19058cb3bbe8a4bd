import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type pg from 'pg';
import { acquireDataDirLock, DataDirBusyError, type LockHolder } from './data-dir-lock.ts';
import { listenWithClient, type Listen } from './listen.ts';
import { SOCKET_PORT, startPgliteOwner } from './pglite-owner.ts';
import * as schema from './schema.ts';
import { createTimedPool } from './statement-timeout.ts';

/** One type for both drivers: the code above the client never knows which one it runs on. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Human-readable target, without credentials. */
  description: string;
  /** Settings for a dedicated connection (migrations, backups); undefined for the in-memory PGlite of tests. */
  connection: pg.ClientConfig | undefined;
  /** The embedded directory's owner when this process reaches it through another one. */
  owner: LockHolder | undefined;
  /** Calls `onNotify` for each NOTIFY on `channel`; `onState` says whether notifications arrive (none may be missed while false). */
  listen: Listen;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Connections of the PostgreSQL pool, for /metrics; PGlite has no pool. */
  poolStats?(): PoolStats;
  /** The in-memory database's data directory as a tarball (a template for `memoryTemplate`). */
  dumpMemory?(): Promise<Blob>;
}

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  /** Queries waiting for a free connection. */
  waiting: number;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  /** Directory of the embedded database; 'memory://' keeps it in memory, in this process (tests). */
  dataDir: string;
  poolSize?: number;
  /** Bound on each statement of work outside an HTTP request (ms, 0: none). */
  statementTimeoutMs?: number;
  /** What opens the embedded directory, as its lock file names the holder ("openroll serve"). */
  command?: string;
  /**
   * When another live process owns the embedded directory: reach the database through it (the
   * operator's command line), or refuse with DataDirBusyError (a second server).
   */
  whenOwned?: 'connect' | 'refuse';
  /**
   * For 'memory://': start from this data directory (a tarball from PGlite's `dumpDataDir`)
   * instead of an empty one. Tests copy one migrated database rather than migrating each.
   */
  memoryTemplate?: Blob;
}

export { DataDirBusyError };

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const poolSize = options.poolSize ?? 10;
  const timeout = options.statementTimeoutMs ?? 0;
  if (options.databaseUrl) {
    const target = new URL(options.databaseUrl);
    const description = `PostgreSQL at ${target.hostname}:${target.port || '5432'}${target.pathname}`;
    return overPool({ connectionString: options.databaseUrl }, { kind: 'postgres', description, poolSize, timeout });
  }
  if (options.dataDir === 'memory://') return openInMemory(options.memoryTemplate);
  return openEmbedded(options.dataDir, options.command ?? 'openroll', options.whenOwned ?? 'connect', poolSize, timeout);
}

async function openEmbedded(dataDir: string, command: string, whenOwned: 'connect' | 'refuse', poolSize: number, timeout: number): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  let lock;
  try {
    lock = acquireDataDirLock(dataDir, command);
  } catch (error) {
    if (!(error instanceof DataDirBusyError) || whenOwned === 'refuse') throw error;
    const { holder } = error;
    const database = overPool(
      { host: holder.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' },
      { kind: 'pglite', description: `PGlite at ${dataDir}, through process ${holder.pid} (${holder.command})`, poolSize, timeout, owner: holder },
    );
    await waitUntilAnswering(database, holder);
    return database;
  }
  try {
    const owner = await startPgliteOwner({ dataDir, socketDir: lock.holder.socketDir });
    return overPool(
      { host: owner.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' },
      {
        kind: 'pglite',
        description: `PGlite at ${dataDir}`,
        poolSize,
        timeout,
        onClose: async () => {
          await owner.close();
          lock.release();
        },
      },
    );
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** An owner that is still opening its directory has its lock but not yet its socket. */
async function waitUntilAnswering(database: Database, holder: LockHolder): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      await database.ping();
      return;
    } catch (error) {
      if (Date.now() > until) {
        await database.close().catch(() => {});
        throw new Error(`process ${holder.pid} (${holder.command}) owns the embedded database but does not answer on ${holder.socketDir}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

interface PoolTarget {
  kind: Database['kind'];
  description: string;
  poolSize: number;
  timeout: number;
  owner?: LockHolder;
  onClose?: () => Promise<void>;
}

function overPool(connection: pg.ClientConfig, target: PoolTarget): Database {
  const pool = createTimedPool({ ...connection, max: target.poolSize, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 }, target.timeout);
  // An idle client that loses its server must not crash the process: the next query reports it.
  pool.on('error', () => {});
  // A checked-out client (one in a transaction between queries) has no pool listener: when its
  // server goes away, its 'error' event was uncaught and killed the process. Its next query fails
  // instead (503), and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  return {
    db,
    kind: target.kind,
    description: target.description,
    connection,
    owner: target.owner,
    listen: (channel, onNotify, onState) => listenWithClient(connection, channel, onNotify, onState),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      await pool.end();
      await target.onClose?.();
    },
    poolStats: () => ({ max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

async function openInMemory(template: Blob | undefined): Promise<Database> {
  const client = new PGlite({ extensions: { pg_trgm }, ...(template ? { loadDataDir: template } : {}) });
  await client.waitReady;
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    description: 'PGlite (in memory)',
    connection: undefined,
    owner: undefined,
    listen: async (channel, onNotify, onState) => {
      const unlisten = await client.listen(channel, onNotify);
      onState(true);
      return async () => {
        onState(false);
        await unlisten();
      };
    },
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
    dumpMemory: () => client.dumpDataDir('none'),
  };
}
