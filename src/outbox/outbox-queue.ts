import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { fromDriver } from '../db/bulk-insert.ts';
import type { Executor } from '../db/client.ts';

/**
 * The columns every outbox table has (email_outbox, webhook_deliveries, and the outboxes to
 * come): a row is `pending` until settled; while pending, `next_attempt_at` is when it is due,
 * or, while a sender holds it, when that sender's lease runs out; `lease_token` names the claim
 * that holds it.
 */
export type OutboxTable = PgTable & {
  organizationId: PgColumn;
  id: PgColumn;
  status: PgColumn;
  attempts: PgColumn;
  nextAttemptAt: PgColumn;
  leaseToken: PgColumn;
  updatedAt: PgColumn;
};

/** What the worker needs of a claimed row. */
export interface OutboxRow {
  organizationId: string;
  id: string;
  attempts: number;
}

export interface OutboxQueue<T extends OutboxTable = OutboxTable> {
  table: T;
  /**
   * The due rows' keys (`organization_id`, `id`), in the order they are taken, at most `limit`:
   * a plain SELECT that locks nothing. `now` is the claim's instant as SQL.
   */
  due(now: SQL, limit: number): SQL;
}

/** A row as this sender holds it: the claim's token fences every later write. */
export interface Lease {
  organizationId: string;
  id: string;
  token: string;
}

/**
 * A fresh token per claim. It starts with the host and process id, so an operator (and the fault
 * tests) can see which process holds a row; the random part makes it the claim's own.
 */
export function newLeaseToken(): string {
  return `${hostname()}/${process.pid}/${randomBytes(9).toString('base64url')}`;
}

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/**
 * The claim: up to `limit` due rows, each given the lease `token` until `now + leaseMs` and one
 * more attempt. Every step is a MATERIALIZED CTE, run once: the due rows (at most `limit`), then
 * those of them no other claim has locked (`FOR UPDATE SKIP LOCKED`), then the UPDATE. Written as
 * `WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`, the planner, believing few rows were
 * due (statistics taken when the queue was empty), re-ran the subquery for every candidate row,
 * and since each run skips the rows the statement already updated, one claim took every due row
 * (issue 27: 2,900 emails, leases that ran out under the sender, duplicates). Exported so the
 * test can EXPLAIN the very statement the worker runs.
 */
export function claimStatement(queue: OutboxQueue, now: Date, limit: number, token: string, leaseMs: number): SQL {
  const { table } = queue;
  const returning = sql.join(
    Object.values(getTableColumns(table)).map((c) => sql`t.${sql.identifier(c.name)}`),
    sql`, `,
  );
  return sql`with due as materialized (${queue.due(at(now), limit)}),
    picked as materialized (
      select c.organization_id, c.id from ${table} c
      where (c.organization_id, c.id) in (select organization_id, id from due)
        and c.status = 'pending' and c.next_attempt_at <= ${at(now)}
      for update of c skip locked)
    update ${table} as t
    set lease_token = ${token}, next_attempt_at = ${at(new Date(now.getTime() + leaseMs))}, attempts = t.attempts + 1, updated_at = ${at(now)}
    from picked
    where t.organization_id = picked.organization_id and t.id = picked.id
    returning ${returning}`;
}

export async function claimDue<T extends OutboxTable>(db: Executor, queue: OutboxQueue<T>, now: Date, limit: number, token: string, leaseMs: number): Promise<T['$inferSelect'][]> {
  if (limit <= 0) return [];
  const result = (await db.execute(claimStatement(queue, now, limit, token, leaseMs))) as unknown as { rows: Array<Record<string, unknown>> };
  return result.rows.map((raw) => fromDriver(queue.table, raw));
}

/**
 * Extends the leases of rows this sender still holds to `until`; returns the keys it still
 * holds (`organizationId:id`). A row another claim took, or that was settled, is not among them.
 */
export async function renewLeases(db: Executor, queue: OutboxQueue, leases: readonly Lease[], until: Date): Promise<Set<string>> {
  if (leases.length === 0) return new Set();
  // Row constructors, not a VALUES list: the planner turns them into index lookups of each row.
  const keys = sql.join(
    leases.map((l) => sql`(${l.organizationId}, ${l.id}, ${l.token})`),
    sql`, `,
  );
  const result = (await db.execute(sql`update ${queue.table} as t set next_attempt_at = ${at(until)}
    where t.status = 'pending' and (t.organization_id, t.id, t.lease_token) in (${keys})
    returning t.organization_id, t.id`)) as unknown as { rows: Array<{ organization_id: string; id: string }> };
  return new Set(result.rows.map((r) => `${r.organization_id}:${r.id}`));
}

/** The condition of every write that settles a held row: it is still pending and still ours. */
export function heldBy(queue: OutboxQueue, lease: Lease): SQL {
  const { table } = queue;
  return and(eq(table.organizationId, lease.organizationId), eq(table.id, lease.id), eq(table.leaseToken, lease.token), eq(table.status, 'pending'))!;
}
