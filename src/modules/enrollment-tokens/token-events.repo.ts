import { and, asc, eq } from 'drizzle-orm';
import { insertRows } from '../../db/bulk-insert.ts';
import type { Executor } from '../../db/client.ts';
import { tokenEvents } from '../../db/schema.ts';
import type { PageRequest } from '../../lib/pagination.ts';

export type TokenEventRecord = typeof tokenEvents.$inferSelect;
export type NewTokenEvent = Omit<typeof tokenEvents.$inferInsert, 'id' | 'organizationId'>;

export const TOKEN_EVENT_TYPES = ['created', 'updated', 'revoked', 'redeemed', 'expired', 'email.queued', 'email.sent', 'email.failed', 'email.cancelled', 'commands.queued'] as const;
export type TokenEventType = (typeof TOKEN_EVENT_TYPES)[number];

/** The audit trail of tokens: append-only, read per token in order. */
export function createTokenEventsRepo(db: Executor) {
  return {
    async append(organizationId: string, events: NewTokenEvent[]): Promise<void> {
      await insertRows(
        db,
        tokenEvents,
        events.map((e) => ({ ...e, organizationId })),
      );
    },
    async listForToken(organizationId: string, tokenId: string, { page, limit }: PageRequest): Promise<{ items: TokenEventRecord[]; total: number }> {
      const where = and(eq(tokenEvents.organizationId, organizationId), eq(tokenEvents.tokenId, tokenId));
      const [items, total] = await Promise.all([
        db.select().from(tokenEvents).where(where).orderBy(asc(tokenEvents.id)).limit(limit).offset((page - 1) * limit),
        db.$count(tokenEvents, where),
      ]);
      return { items, total };
    },
  };
}
