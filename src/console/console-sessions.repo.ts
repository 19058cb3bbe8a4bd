import { and, eq, lte, or } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { apiKeys, consoleSessions, organizations } from '../db/schema.ts';

export type ConsoleSessionRecord = typeof consoleSessions.$inferSelect;

export function createConsoleSessionsRepo(db: Executor) {
  return {
    async insert(row: ConsoleSessionRecord): Promise<void> {
      await db.insert(consoleSessions).values(row);
    },

    /** A session with the key it acts as and the key's organization. */
    async find(organizationId: string, secretHash: Buffer) {
      const [row] = await db
        .select({ session: consoleSessions, key: apiKeys, organization: organizations })
        .from(consoleSessions)
        .innerJoin(apiKeys, and(eq(apiKeys.organizationId, consoleSessions.organizationId), eq(apiKeys.id, consoleSessions.apiKeyId)))
        .innerJoin(organizations, eq(organizations.id, consoleSessions.organizationId))
        .where(and(eq(consoleSessions.organizationId, organizationId), eq(consoleSessions.secretHash, secretHash)))
        .limit(1);
      return row;
    },

    async touch(organizationId: string, secretHash: Buffer, at: Date): Promise<void> {
      await db
        .update(consoleSessions)
        .set({ lastSeenAt: at })
        .where(and(eq(consoleSessions.organizationId, organizationId), eq(consoleSessions.secretHash, secretHash)));
    },

    async delete(organizationId: string, secretHash: Buffer): Promise<boolean> {
      const rows = await db
        .delete(consoleSessions)
        .where(and(eq(consoleSessions.organizationId, organizationId), eq(consoleSessions.secretHash, secretHash)))
        .returning({ organizationId: consoleSessions.organizationId });
      return rows.length > 0;
    },

    /** Forgets the organization's sessions past their absolute end or idle since `idleBefore`. */
    async deleteEnded(organizationId: string, now: Date, idleBefore: Date): Promise<void> {
      await db
        .delete(consoleSessions)
        .where(and(eq(consoleSessions.organizationId, organizationId), or(lte(consoleSessions.expiresAt, now), lte(consoleSessions.lastSeenAt, idleBefore))));
    },
  };
}
