import { and, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { ApiKeyRecord } from '../../auth/api-key-credentials.ts';
import type { Executor } from '../../db/client.ts';
import { apiKeys, organizations } from '../../db/schema.ts';
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
    /** Holds the organization's row until the transaction ends: revokes of its keys run one after the other. */
    async lockOrganization(organizationId: string): Promise<void> {
      await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, organizationId)).for('update');
    },
    /** Keys that authenticate at `now`: neither revoked nor expired. */
    async listLive(organizationId: string, now: Date): Promise<ApiKeyRecord[]> {
      return db
        .select()
        .from(apiKeys)
        .where(
          and(
            eq(apiKeys.organizationId, organizationId),
            isNull(apiKeys.revokedAt),
            or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`${now.toISOString()}::timestamptz`)),
          ),
        );
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
