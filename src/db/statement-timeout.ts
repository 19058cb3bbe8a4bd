import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';

const budget = new AsyncLocalStorage<number>();

/**
 * Runs `fn` with its database statements bounded to `ms` each (0: no bound). An HTTP request
 * runs under the bound of its kind (reads or writes, see src/plugins/statement-timeouts.ts);
 * work outside any request (jobs, the command line) keeps the pool's default.
 */
export function withStatementTimeout<T>(ms: number, fn: () => T): T {
  return budget.run(ms, fn);
}

/**
 * A pool whose connections apply the caller's statement timeout when they are checked out.
 * A connection remembers the bound it has, so the SET only goes out when the kind of work
 * changes on it. On PostgreSQL this is statement_timeout; the embedded database's owner reads
 * the same setting and enforces it itself (src/db/pglite-owner.ts).
 */
export function createTimedPool(config: pg.PoolConfig, defaultTimeoutMs: number): pg.Pool {
  const pool = new pg.Pool({ ...config, statement_timeout: defaultTimeoutMs || undefined });
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const applied = new WeakMap<pg.PoolClient, number>();

  const checkout = async (): Promise<pg.PoolClient> => {
    const client = await connect();
    const wanted = budget.getStore() ?? defaultTimeoutMs;
    if ((applied.get(client) ?? defaultTimeoutMs) !== wanted) {
      try {
        await client.query(`SET statement_timeout = ${Math.trunc(wanted)}`);
        applied.set(client, wanted);
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
    }
    return client;
  };

  type Done = (error: Error | undefined, client?: pg.PoolClient, release?: (error?: Error | boolean) => void) => void;
  // pg-pool's query() checks a client out through this.connect(callback): both forms are covered.
  (pool as unknown as { connect: (cb?: Done) => Promise<pg.PoolClient> | undefined }).connect = (cb?: Done) => {
    if (!cb) return checkout();
    checkout().then(
      (client) => cb(undefined, client, (error) => client.release(error)),
      (error: Error) => cb(error),
    );
    return undefined;
  };
  return pool;
}
