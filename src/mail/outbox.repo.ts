import { sql, type SQL } from 'drizzle-orm';
import { insertRows, withDependentRows, type DependentRows } from '../db/bulk-insert.ts';
import type { Executor } from '../db/client.ts';
import { emailOutbox } from '../db/schema.ts';
import type { OutboxQueue } from '../outbox/outbox-queue.ts';

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

/** The email outbox as the shared worker claims it: every due message, oldest due first. */
export const emailQueue: OutboxQueue<typeof emailOutbox> = {
  table: emailOutbox,
  due: (now, limit) => sql`select organization_id, id from email_outbox
    where status = 'pending' and next_attempt_at <= ${now} order by next_attempt_at limit ${limit}`,
};

/**
 * Settles a message this sender holds (`held`: src/outbox/outbox-queue.ts heldBy) and lets its
 * lease go, writing `dependents` (its trail event and webhook deliveries, keyed by the token)
 * in the same statement, so they stand or fall with it; false when another sender holds it now
 * (and nothing is written).
 */
export async function settleMessage(
  db: Executor,
  held: SQL,
  set: Partial<Pick<OutboxRecord, 'status' | 'nextAttemptAt' | 'lastError' | 'messageId' | 'sentAt' | 'updatedAt'>>,
  dependents: readonly DependentRows[] = [],
): Promise<boolean> {
  const update = db
    .update(emailOutbox)
    .set({ ...set, leaseToken: null })
    .where(held)
    .returning({ id: emailOutbox.id, tokenId: emailOutbox.tokenId });
  const result = (await db.execute(withDependentRows(update.getSQL(), 'token_id', dependents))) as unknown as { rows: unknown[] };
  return result.rows.length > 0;
}
