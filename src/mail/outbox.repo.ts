import { and, eq, inArray, sql } from 'drizzle-orm';
import { insertRows } from '../db/bulk-insert.ts';
import type { Executor } from '../db/client.ts';
import { emailOutbox } from '../db/schema.ts';

export type OutboxRecord = typeof emailOutbox.$inferSelect;
export type NewOutboxRecord = typeof emailOutbox.$inferInsert;

export function createOutboxRepo(db: Executor) {
  return {
    /** Queues messages; called inside the transaction that creates or resends their tokens. */
    async enqueue(organizationId: string, rows: Omit<NewOutboxRecord, 'organizationId'>[]): Promise<void> {
      await insertRows(
        db,
        emailOutbox,
        rows.map((r) => ({ ...r, organizationId })),
      );
    },
  };
}

/**
 * Takes up to `batch` due messages for this sender: each gets a lease (next_attempt_at moves
 * past the send) and one more attempt, so a crashed sender's messages come back after the lease,
 * and two senders never hold the same row (SKIP LOCKED).
 */
export async function claimDueMessages(db: Executor, now: Date, batch: number, leaseMs: number): Promise<OutboxRecord[]> {
  const due = db
    .select({ id: emailOutbox.id })
    .from(emailOutbox)
    .where(and(eq(emailOutbox.status, 'pending'), sql`${emailOutbox.nextAttemptAt} <= ${now.toISOString()}::timestamptz`))
    .orderBy(emailOutbox.nextAttemptAt)
    .limit(batch)
    .for('update', { skipLocked: true });
  return db
    .update(emailOutbox)
    .set({ nextAttemptAt: new Date(now.getTime() + leaseMs), attempts: sql`${emailOutbox.attempts} + 1`, updatedAt: now })
    .where(and(inArray(emailOutbox.id, due), eq(emailOutbox.status, 'pending')))
    .returning();
}

export async function finishMessage(
  db: Executor,
  organizationId: string,
  id: string,
  set: Partial<Pick<OutboxRecord, 'status' | 'nextAttemptAt' | 'lastError' | 'messageId' | 'sentAt' | 'updatedAt'>>,
): Promise<void> {
  await db.update(emailOutbox).set(set).where(and(eq(emailOutbox.organizationId, organizationId), eq(emailOutbox.id, id)));
}
