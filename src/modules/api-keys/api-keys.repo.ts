import { and, desc, eq, sql } from 'drizzle-orm';
import type { ApiKeyRecord } from '../../auth/api-key-credentials.ts';
import type { Executor } from '../../db/client.ts';
import { apiKeys } from '../../db/schema.ts';
import type { PageRequest } from '../../lib/pagination.ts';


export function createApiKeysRepo(db: Executor) {
  return {
    async insert(key: typeof apiKeys.$inferInsert): Promise<ApiKeyRecord> {
      const [row] = await db.insert(apiKeys).values(key).returning();
      return row!;
    },
    async list(organizationId: string, { page, limit }: PageRequest): Promise<{ items: ApiKeyRecord[]; total: number }> {
      const where = eq(apiKeys.organizationId, organizationId);
      const [items, total] = await Promise.all([
        db.select().from(apiKeys).where(where).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)).limit(limit).offset((page - 1) * limit),
        db.$count(apiKeys, where),
      ]);
      return { items, total };
    },
    async get(organizationId: string, id: string): Promise<ApiKeyRecord | undefined> {
      const [row] = await db.select().from(apiKeys).where(and(eq(apiKeys.organizationId, organizationId), eq(apiKeys.id, id))).limit(1);
      return row;
    },
    /** Revokes once; a second revoke keeps the first time. */
    async revoke(organizationId: string, id: string, at: Date): Promise<ApiKeyRecord | undefined> {
      const [row] = await db
        .update(apiKeys)
        .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${at.toISOString()}::timestamptz)` })
        .where(and(eq(apiKeys.organizationId, organizationId), eq(apiKeys.id, id)))
        .returning();
      return row;
    },
  };
}
