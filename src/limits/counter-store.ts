import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.ts';

/** A bucket's count in its current window, and how long that window has left. */
export interface Hit {
  count: number;
  ttlMs: number;
}

/**
 * Fixed-window request counters. A bucket belongs to an organization (a key's budget) or to
 * none (a client address before authentication: `NO_ORGANIZATION`).
 */
export interface CounterStore {
  /** Counts one request in the bucket's window, opening a new window when the last one ended. */
  hit(organizationId: string, bucket: string, windowMs: number): Promise<Hit>;
  /** The bucket's count in its current window, without counting anything (0 when none is open). */
  peek(organizationId: string, bucket: string): Promise<Hit>;
  /** Forgets windows that ended; returns how many. */
  sweep(): Promise<number>;
}

/** The organization of buckets that have none (client addresses): keeps the key's layout. */
export const NO_ORGANIZATION = '';

type Rows<T> = { rows: T[] };

/**
 * Counters in PostgreSQL, so every server process on the database counts against one limit.
 * One upsert per hit; the window's clock is the database's, the same for every process.
 */
export function createDatabaseCounterStore(db: Executor): CounterStore {
  return {
    async hit(organizationId, bucket, windowMs) {
      const result = (await db.execute(sql`
        insert into rate_limit_counters as c (organization_id, bucket, hits, window_ends_at)
        values (${organizationId}, ${bucket}, 1, now() + ${windowMs} * interval '1 millisecond')
        on conflict (organization_id, bucket) do update set
          hits = case when c.window_ends_at <= now() then 1 else c.hits + 1 end,
          window_ends_at = case when c.window_ends_at <= now() then excluded.window_ends_at else c.window_ends_at end
        returning hits, floor(extract(epoch from (window_ends_at - now())) * 1000)::int as ttl_ms`)) as unknown as Rows<{ hits: number; ttl_ms: number }>;
      const row = result.rows[0]!;
      return { count: Number(row.hits), ttlMs: Math.max(0, Number(row.ttl_ms)) };
    },
    async peek(organizationId, bucket) {
      const result = (await db.execute(sql`
        select hits, floor(extract(epoch from (window_ends_at - now())) * 1000)::int as ttl_ms from rate_limit_counters
        where organization_id = ${organizationId} and bucket = ${bucket} and window_ends_at > now()`)) as unknown as Rows<{ hits: number; ttl_ms: number }>;
      const row = result.rows[0];
      return row ? { count: Number(row.hits), ttlMs: Math.max(0, Number(row.ttl_ms)) } : { count: 0, ttlMs: 0 };
    },
    async sweep() {
      const result = (await db.execute(sql`delete from rate_limit_counters where window_ends_at < now() - interval '1 minute' returning 1`)) as unknown as Rows<unknown>;
      return result.rows.length;
    },
  };
}

/** Buckets kept in memory at most; past it the oldest windows are forgotten first. */
const MEMORY_BUCKETS = 100_000;

/** Counters in this process: for PGlite, which one process alone can open anyway. */
export function createMemoryCounterStore(now: () => number = Date.now): CounterStore {
  const buckets = new Map<string, { hits: number; endsAt: number }>();
  const keyOf = (organizationId: string, bucket: string) => `${organizationId}\u0000${bucket}`;
  return {
    async hit(organizationId, bucket, windowMs) {
      const key = keyOf(organizationId, bucket);
      const t = now();
      let entry = buckets.get(key);
      if (!entry || entry.endsAt <= t) {
        buckets.delete(key);
        if (buckets.size >= MEMORY_BUCKETS) buckets.delete(buckets.keys().next().value!);
        entry = { hits: 0, endsAt: t + windowMs };
        buckets.set(key, entry);
      }
      entry.hits++;
      return { count: entry.hits, ttlMs: entry.endsAt - t };
    },
    async peek(organizationId, bucket) {
      const entry = buckets.get(keyOf(organizationId, bucket));
      const t = now();
      return entry && entry.endsAt > t ? { count: entry.hits, ttlMs: entry.endsAt - t } : { count: 0, ttlMs: 0 };
    },
    async sweep() {
      const t = now();
      let n = 0;
      for (const [key, entry] of buckets) {
        if (entry.endsAt <= t) {
          buckets.delete(key);
          n++;
        }
      }
      return n;
    },
  };
}

/** Shared counters on PostgreSQL; in-process ones on PGlite. */
export function createCounterStore(database: Database): CounterStore {
  return database.kind === 'postgres' ? createDatabaseCounterStore(database.db) : createMemoryCounterStore();
}
