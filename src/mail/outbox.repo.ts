import { sql, type SQL } from 'drizzle-orm';
import { insertRows } from '../db/bulk-insert.ts';
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
 * lease go; false when another sender holds it now.
 */
export async function settleMessage(
  db: Executor,
  held: SQL,
  set: Partial<Pick<OutboxRecord, 'status' | 'nextAttemptAt' | 'lastError' | 'messageId' | 'sentAt' | 'updatedAt'>>,
): Promise<boolean> {
  const rows = await db
    .update(emailOutbox)
    .set({ ...set, leaseToken: null })
    .where(held)
    .returning({ id: emailOutbox.id });
  return rows.length > 0;
}
