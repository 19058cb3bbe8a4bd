import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { enterprises, organizations } from '../../db/schema.ts';

export type OrganizationRecord = typeof organizations.$inferSelect;
export type EnterpriseRecord = typeof enterprises.$inferSelect;

/** Organizations are the tenants themselves: looked up by id or slug by the operator only. */
export function createOrganizationsRepo(db: Executor) {
  return {
    async insert(org: typeof organizations.$inferInsert): Promise<OrganizationRecord> {
      const [row] = await db.insert(organizations).values(org).returning();
      return row!;
    },
    async insertEnterprise(enterprise: typeof enterprises.$inferInsert): Promise<EnterpriseRecord> {
      const [row] = await db.insert(enterprises).values(enterprise).returning();
      return row!;
    },
    async findByIdOrSlug(idOrSlug: string): Promise<OrganizationRecord | undefined> {
      const column = /^[a-fA-F0-9]{24}$/.test(idOrSlug) ? organizations.id : organizations.slug;
      const value = column === organizations.id ? idOrSlug.toLowerCase() : idOrSlug;
      const [row] = await db.select().from(organizations).where(eq(column, value)).limit(1);
      return row;
    },
    async count(): Promise<number> {
      return db.$count(organizations);
    },
  };
}
