import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { insertRows } from '../db/bulk-insert.ts';
import type { Executor } from '../db/client.ts';
import { webhookDeliveries, webhookEndpoints } from '../db/schema.ts';
import type { PageRequest } from '../lib/pagination.ts';

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
 * Takes up to `batch` due deliveries for this sender. Each gets a lease (next_attempt_at moves
 * past the attempt) and one more attempt, so a crashed sender's deliveries come back after the
 * lease; SKIP LOCKED keeps two senders off the same row. Only the oldest pending delivery of a
 * token to an endpoint is due: a later event waits until the earlier one is delivered or given
 * up (a leased one is still pending), which is what keeps each token's events in order.
 */
export async function claimDueDeliveries(db: Executor, now: Date, batch: number, leaseMs: number): Promise<WebhookDeliveryRecord[]> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const due = sql`
    select c.organization_id, c.id
    from webhook_deliveries c
    join webhook_endpoints e on e.organization_id = c.organization_id and e.id = c.endpoint_id and e.enabled
    where c.status = 'pending' and c.next_attempt_at <= ${at}
      and not exists (
        select 1 from webhook_deliveries p
        where p.organization_id = c.organization_id and p.endpoint_id = c.endpoint_id and p.token_id = c.token_id
          and p.status = 'pending' and p.seq < c.seq)
    order by c.next_attempt_at, c.seq
    limit ${batch}
    for update of c skip locked`;
  const rows = await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: new Date(now.getTime() + leaseMs), attempts: sql`${webhookDeliveries.attempts} + 1`, updatedAt: now })
    .where(and(sql`(${webhookDeliveries.organizationId}, ${webhookDeliveries.id}) in (${due})`, eq(webhookDeliveries.status, 'pending')))
    .returning();
  return rows.sort((a, b) => a.seq - b.seq);
}

export async function finishDelivery(
  db: Executor,
  organizationId: string,
  id: string,
  set: Partial<Pick<WebhookDeliveryRecord, 'status' | 'nextAttemptAt' | 'lastAttemptAt' | 'responseStatus' | 'lastError' | 'deliveredAt' | 'updatedAt'>>,
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set(set)
    .where(and(eq(webhookDeliveries.organizationId, organizationId), eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'pending')));
}

/** The endpoints a batch of claimed deliveries goes to, enabled or not, by organization and id. */
export async function endpointsOf(db: Executor, deliveries: WebhookDeliveryRecord[]): Promise<Map<string, WebhookEndpointRecord>> {
  const keys = [...new Set(deliveries.map((d) => `${d.organizationId}:${d.endpointId}`))];
  if (keys.length === 0) return new Map();
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(sql`(${webhookEndpoints.organizationId}, ${webhookEndpoints.id}) in (${sql.join(
      keys.map((k) => {
        const [org, id] = k.split(':');
        return sql`(${org}, ${id})`;
      }),
      sql`, `,
    )})`);
  return new Map(rows.map((r) => [`${r.organizationId}:${r.id}`, r]));
}
