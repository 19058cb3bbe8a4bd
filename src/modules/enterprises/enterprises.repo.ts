import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { enterprises } from '../../db/schema.ts';
import type { Platform } from '../../platforms/platforms.ts';

export type EnterpriseRecord = typeof enterprises.$inferSelect;

export function createEnterprisesRepo(db: Executor) {
  return {
    /** The organization's one enterprise of the platform, made with the organization. */
    async get(organizationId: string, platform: Platform): Promise<EnterpriseRecord | undefined> {
      const [row] = await db
        .select()
        .from(enterprises)
        .where(and(eq(enterprises.organizationId, organizationId), eq(enterprises.platform, platform)))
        .limit(1);
      return row;
    },
  };
}
