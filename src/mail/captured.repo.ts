import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { capturedEmails } from '../db/schema.ts';

export type CapturedEmailRecord = typeof capturedEmails.$inferSelect;

/** Read by the operator's command line only: the operator sees every organization's mail. */
export function createCapturedEmailsRepo(db: Executor) {
  return {
    async list(options: { organizationId?: string; limit: number }): Promise<CapturedEmailRecord[]> {
      const where: SQL | undefined = options.organizationId ? eq(capturedEmails.organizationId, options.organizationId) : undefined;
      return db.select().from(capturedEmails).where(where).orderBy(desc(capturedEmails.createdAt), desc(capturedEmails.id)).limit(options.limit);
    },
    async get(id: string, organizationId?: string): Promise<CapturedEmailRecord | undefined> {
      const conditions = [eq(capturedEmails.id, id.toLowerCase())];
      if (organizationId) conditions.push(eq(capturedEmails.organizationId, organizationId));
      const [row] = await db.select().from(capturedEmails).where(and(...conditions)).limit(1);
      return row;
    },
  };
}
