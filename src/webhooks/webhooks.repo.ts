import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { insertRows } from '../db/bulk-insert.ts';
import type { Executor } from '../db/client.ts';
import { webhookDeliveries, webhookEndpoints } from '../db/schema.ts';
import type { PageRequest } from '../lib/pagination.ts';
import type { OutboxQueue } from '../outbox/outbox-queue.ts';

export type WebhookEndpointRecord = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRecord = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDelivery = Omit<typeof webhookDeliveries.$inferInsert, 'seq'>;
export type EndpointChanges = Partial<Pick<WebhookEndpointRecord, 'url' | 'description' | 'events' | 'enabled'>>;

/** Endpoints and their delivery log; the organization scopes every statement. */
export function createWebhooksRepo(db: Executor) {
  const endpoint = (organizationId: string, id: string, ...more: SQL[]) =>
    and(eq(webhookEndpoints.organizationId, organizationId), eq(webhookEndpoints.id, id), ...more);

  return {
    async insert(row: typeof webhookEndpoints.$inferInsert): Promise<WebhookEndpointRecord> {
      const [saved] = await db.insert(webhookEndpoints).values(row).returning();
      return saved!;
    },

    async list(organizationId: string, { page, limit }: PageRequest): Promise<{ items: WebhookEndpointRecord[]; total: number }> {
      const where = eq(webhookEndpoints.organizationId, organizationId);
      const [items, total] = await Promise.all([
        db.select().from(webhookEndpoints).where(where).orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id)).limit(limit).offset((page - 1) * limit),
        db.$count(webhookEndpoints, where),
      ]);
      return { items, total };
    },

    async get(organizationId: string, id: string): Promise<WebhookEndpointRecord | undefined> {
      const [row] = await db.select().from(webhookEndpoints).where(endpoint(organizationId, id)).limit(1);
      return row;
    },

    async update(organizationId: string, id: string, changes: EndpointChanges, now: Date): Promise<WebhookEndpointRecord | undefined> {
      const [row] = await db
        .update(webhookEndpoints)
        .set({ ...changes, updatedAt: now })
        .where(endpoint(organizationId, id))
        .returning();
      return row;
    },

    /** A hard delete, with the endpoint's delivery log (pending deliveries included). */
    async delete(organizationId: string, id: string): Promise<WebhookEndpointRecord | undefined> {
      const [row] = await db.delete(webhookEndpoints).where(endpoint(organizationId, id)).returning();
      if (row) await db.delete(webhookDeliveries).where(and(eq(webhookDeliveries.organizationId, organizationId), eq(webhookDeliveries.endpointId, id)));
      return row;
    },

    async deliveries(
      organizationId: string,
      endpointId: string,
      filter: { status?: string | undefined },
      { page, limit }: PageRequest,
    ): Promise<{ items: WebhookDeliveryRecord[]; total: number }> {
      const where = and(
        eq(webhookDeliveries.organizationId, organizationId),
        eq(webhookDeliveries.endpointId, endpointId),
        filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
      );
      const [items, total] = await Promise.all([
        db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.seq)).limit(limit).offset((page - 1) * limit),
        db.$count(webhookDeliveries, where),
      ]);
      return { items, total };
    },

    /**
     * Queues a delivery again, due now, with a fresh round of attempts; what the last attempt
     * answered stays in the log until the next one.
     */
    async redeliver(organizationId: string, endpointId: string, id: string, now: Date): Promise<WebhookDeliveryRecord | undefined> {
      const [row] = await db
        .update(webhookDeliveries)
        .set({ status: 'pending', attempts: 0, nextAttemptAt: now, deliveredAt: null, updatedAt: now })
        .where(and(eq(webhookDeliveries.organizationId, organizationId), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.id, id)))
        .returning();
      return row;
    },
  };
}

/** The enabled endpoints of an organization: one read of the primary key's organization prefix. */
export type EnabledEndpoint = Pick<WebhookEndpointRecord, 'id' | 'events'>;

export async function enabledEndpoints(db: Executor, organizationId: string): Promise<EnabledEndpoint[]> {
  return db
    .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.organizationId, organizationId), eq(webhookEndpoints.enabled, true)));
}

export async function insertDeliveries(db: Executor, rows: NewWebhookDelivery[]): Promise<void> {
  await insertRows(db, webhookDeliveries, rows);
}

/**
 * The webhook outbox as the shared worker claims it (src/outbox/). Only deliveries to an enabled
 * endpoint are due, and of those only the oldest pending delivery of a token to an endpoint (the
 * head of its chain): a later event waits until the earlier one is delivered or given up (a
 * leased one is still pending), which is what keeps each token's events in order across
 * senders. The heads come from one ordered walk of the chain index over the pending deliveries,
 * materialized: a per-candidate NOT EXISTS was planned, with the statistics of an empty queue,
 * on the endpoint's index, reading every earlier delivery of the endpoint for each candidate
 * (10,000 × 10,000: claims of 19 to 80 s).
 */
export const webhookQueue: OutboxQueue<typeof webhookDeliveries> = {
  table: webhookDeliveries,
  due: (now, limit) => sql`select h.organization_id, h.id from (
      select organization_id, id, endpoint_id, next_attempt_at, seq,
             row_number() over (partition by organization_id, endpoint_id, token_id order by seq) as place
      from webhook_deliveries where status = 'pending') h
    where h.place = 1 and h.next_attempt_at <= ${now}
      and exists (select 1 from webhook_endpoints e where e.organization_id = h.organization_id and e.id = h.endpoint_id and e.enabled)
    order by h.next_attempt_at, h.seq
    limit ${limit}`,
};

/** Settles a delivery this sender holds (`held`) and lets its lease go; false when it no longer holds it. */
export async function settleDelivery(
  db: Executor,
  held: SQL,
  set: Partial<Pick<WebhookDeliveryRecord, 'status' | 'nextAttemptAt' | 'lastAttemptAt' | 'responseStatus' | 'lastError' | 'deliveredAt' | 'updatedAt'>>,
): Promise<boolean> {
  const rows = await db
    .update(webhookDeliveries)
    .set({ ...set, leaseToken: null })
    .where(held)
    .returning({ id: webhookDeliveries.id });
  return rows.length > 0;
}
