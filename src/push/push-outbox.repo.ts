import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../db/client.ts';
import { applePushOutbox } from '../db/schema.ts';
import { newId } from '../lib/ids.ts';
import type { OutboxQueue } from '../outbox/outbox-queue.ts';

export type PushRecord = typeof applePushOutbox.$inferSelect;

/** The due pushes, oldest due first, for the shared worker's claim. */
export const pushQueue: OutboxQueue<typeof applePushOutbox> = {
  table: applePushOutbox,
  due: (now, limit) => sql`select organization_id, id from apple_push_outbox
    where status = 'pending' and next_attempt_at <= ${now} order by next_attempt_at limit ${limit}`,
};

/**
 * Queues a push for the device in the caller's transaction, unless one is pending already (the
 * partial unique index decides, so two transactions queueing at once still leave one). True
 * when this call queued it.
 */
export async function queuePushUnlessPending(tx: Executor, organizationId: string, deviceId: string, now: Date): Promise<boolean> {
  const rows = await tx
    .insert(applePushOutbox)
    .values({ organizationId, id: newId(), deviceId, status: 'pending', nextAttemptAt: now, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: [applePushOutbox.organizationId, applePushOutbox.deviceId], where: sql`status = 'pending'` })
    .returning({ id: applePushOutbox.id });
  return rows.length > 0;
}

/**
 * True unless APNs refused this device's current token for good (a push settled with it as
 * `refused_token`): the devices' pushability check, on their own columns.
 */
export function tokenNotRefused(device: { organizationId: PgColumn; id: PgColumn; pushToken: PgColumn }): SQL {
  return sql`not exists (select 1 from apple_push_outbox r
    where r.organization_id = ${device.organizationId} and r.device_id = ${device.id} and r.refused_token is not null and r.refused_token = ${device.pushToken})`;
}

/** Settles a push this sender holds (`held`) and lets its lease go; false when it no longer holds it. */
export async function settlePush(
  db: Executor,
  held: SQL,
  set: Partial<Pick<PushRecord, 'status' | 'nextAttemptAt' | 'lastAttemptAt' | 'responseStatus' | 'lastError' | 'apnsId' | 'refusedToken' | 'sentAt' | 'updatedAt'>>,
): Promise<boolean> {
  const rows = await db
    .update(applePushOutbox)
    .set({ ...set, leaseToken: null })
    .where(held)
    .returning({ id: applePushOutbox.id });
  return rows.length > 0;
}
