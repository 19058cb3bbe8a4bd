import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { stateSql } from '../modules/enrollment-tokens/token-state.ts';

/**
 * The organization-independent figures /metrics reads on every scrape. Nothing is kept between
 * scrapes: several processes answer the same figures from the one database.
 */

async function rows<T>(db: Executor, query: SQL): Promise<T[]> {
  // Both drivers (node-postgres and PGlite) answer raw queries with `rows`.
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

export interface TokenStateCount {
  platform: string;
  state: string;
  count: number;
}

/**
 * Tokens by platform and effective state: one grouped count (the list indexes INCLUDE state,
 * so it can be an index-only scan), less the PENDING tokens already past expireAt, which read as
 * EXPIRED before the sweep stores it (a range of the pending-expiry partial index).
 */
export async function tokenStateCounts(db: Executor, now: Date): Promise<TokenStateCount[]> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const [stored, overdue] = await Promise.all([
    rows<{ platform: string; state: string; n: number }>(db, sql`select platform, state, count(*)::float8 as n from enrollment_tokens group by platform, state`),
    rows<{ platform: string; n: number }>(db, sql`select platform, count(*)::float8 as n from enrollment_tokens where ${stateSql(at).expiredUnswept} group by platform`),
  ]);
  const counts = new Map<string, TokenStateCount>();
  const add = (platform: string, state: string, n: number) => {
    const key = `${platform}:${state}`;
    const entry = counts.get(key) ?? { platform, state, count: 0 };
    entry.count += Number(n);
    counts.set(key, entry);
  };
  for (const r of stored) add(r.platform, r.state, r.n);
  for (const r of overdue) {
    add(r.platform, 'PENDING', -r.n);
    add(r.platform, 'EXPIRED', r.n);
  }
  return [...counts.values()];
}

export interface OutboxFigures {
  pending: number;
  failed: number;
  /** Age of the oldest pending item, in seconds; 0 when none is pending. */
  oldestPendingSeconds: number;
}

/** Depth and given-up count of an outbox table; each count reads one partial index. */
async function outbox(db: Executor, table: 'email_outbox' | 'webhook_deliveries', now: Date): Promise<OutboxFigures> {
  const t = sql.raw(table);
  const [row] = await rows<{ pending: number; failed: number; oldest: number | null }>(
    db,
    sql`select (select count(*)::float8 from ${t} where status = 'pending') as pending,
               (select count(*)::float8 from ${t} where status = 'failed') as failed,
               (select extract(epoch from (${now.toISOString()}::timestamptz - min(created_at)))::float8 from ${t} where status = 'pending') as oldest`,
  );
  return { pending: Number(row?.pending ?? 0), failed: Number(row?.failed ?? 0), oldestPendingSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
}

export async function outboxFigures(db: Executor, now: Date): Promise<{ email: OutboxFigures; webhook: OutboxFigures }> {
  const [email, webhook] = await Promise.all([outbox(db, 'email_outbox', now), outbox(db, 'webhook_deliveries', now)]);
  return { email, webhook };
}
