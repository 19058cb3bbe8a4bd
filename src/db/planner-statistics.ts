import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.ts';

/** Rows written by one request past which the table's statistics are refreshed at once. */
export const BULK_ANALYZE_ROWS = 1_000;

/**
 * ANALYZE of a table after a large bulk load, in the background (PostgreSQL's own advice for
 * bulk loads). Until autovacuum gets to it, a minute or more later, the planner knows nothing
 * of the rows just written nor of the user search's expression index, and plans that search as
 * a scan of every user: 15 ms per 10,000 users instead of 0.1 ms through the trigram index.
 * Six such searches in a loop saturated two cores and starved the server's event loop.
 * One ANALYZE of a table at a time in this process (another request during it asks for one more
 * afterwards); a failure is logged, never the caller's.
 */
export function createStatisticsRefresher(db: Db, log: { warn: (obj: object, msg: string) => void }) {
  const state = new Map<PgTable, { running: Promise<void>; again: boolean }>();

  const run = (table: PgTable): Promise<void> =>
    db.execute(sql`analyze ${table}`).then(
      () => {
        const entry = state.get(table)!;
        if (!entry.again) return void state.delete(table);
        entry.again = false;
        entry.running = run(table);
      },
      (error: unknown) => {
        state.delete(table);
        log.warn({ err: error }, 'could not refresh planner statistics after a bulk load');
      },
    );

  return {
    /** Call after the transaction that wrote `rows` rows into `table` committed. */
    afterBulkInsert(table: PgTable, rows: number): void {
      if (rows < BULK_ANALYZE_ROWS) return;
      const entry = state.get(table);
      if (entry) entry.again = true;
      else state.set(table, { running: run(table), again: false });
    },
    /** Resolves when no refresh is running (the server waits for it before closing the database). */
    async settled(): Promise<void> {
      while (state.size > 0) await Promise.all([...state.values()].map((e) => e.running));
    },
  };
}

export type StatisticsRefresher = ReturnType<typeof createStatisticsRefresher>;
