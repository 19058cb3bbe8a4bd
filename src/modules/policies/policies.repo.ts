import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { policies } from '../../db/schema.ts';
import { listPage } from '../../lib/listing.ts';
import type { PageRequest, SortSpec } from '../../lib/pagination.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { PolicySortField } from './policies.schemas.ts';
import type { PolicyRecord } from './policies.views.ts';

export type NewPolicyRecord = Omit<typeof policies.$inferInsert, 'organizationId' | 'platform'>;

export interface PolicyChanges {
  name?: string;
  config?: Record<string, unknown>;
  /** Platform fields to replace; the others keep their stored value. */
  details: Record<string, unknown>;
}

const SORT_COLUMNS = { createdAt: policies.createdAt, updatedAt: policies.updatedAt, name: policies.name };

export function createPoliciesRepo(db: Executor) {
  const live = (organizationId: string, platform: Platform, ...more: SQL[]) =>
    and(eq(policies.organizationId, organizationId), eq(policies.platform, platform), isNull(policies.deletedAt), ...more);

  return {
    async list(organizationId: string, platform: Platform, sort: SortSpec<PolicySortField>, page: PageRequest) {
      return listPage(db, policies, { where: live(organizationId, platform), sortColumns: SORT_COLUMNS, sort, ...page });
    },

    async get(organizationId: string, platform: Platform, id: string, options: { forUpdate?: boolean } = {}): Promise<PolicyRecord | undefined> {
      const query = db.select().from(policies).where(live(organizationId, platform, eq(policies.id, id))).limit(1);
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    async insert(organizationId: string, platform: Platform, row: NewPolicyRecord): Promise<PolicyRecord> {
      const [saved] = await db
        .insert(policies)
        .values({ ...row, organizationId, platform })
        .returning();
      return saved!;
    },

    /**
     * One statement, so concurrent updates of different fields both land and each bumps the
     * version: the details are merged key by key in SQL rather than read, changed and written.
     */
    async update(organizationId: string, platform: Platform, id: string, changes: PolicyChanges, now: Date): Promise<PolicyRecord | undefined> {
      const [row] = await db
        .update(policies)
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.config !== undefined ? { config: changes.config } : {}),
          details: sql`${policies.details} || ${JSON.stringify(changes.details)}::jsonb`,
          version: sql`${policies.version} + 1`,
          updatedAt: now,
        })
        .where(live(organizationId, platform, eq(policies.id, id)))
        .returning();
      return row;
    },

    async softDelete(organizationId: string, platform: Platform, id: string, now: Date): Promise<PolicyRecord | undefined> {
      const [row] = await db
        .update(policies)
        .set({ deletedAt: now })
        .where(live(organizationId, platform, eq(policies.id, id)))
        .returning();
      return row;
    },
  };
}
