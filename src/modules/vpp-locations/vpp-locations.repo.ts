import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { vppLocations } from '../../db/schema.ts';
import { listPage } from '../../lib/listing.ts';
import type { PageRequest, SortSpec } from '../../lib/pagination.ts';
import type { VppLocationSortField } from './vpp-locations.schemas.ts';
import type { VppLocationRecord } from './vpp-locations.views.ts';

export type NewVppLocationRecord = Omit<typeof vppLocations.$inferInsert, 'organizationId'>;

export interface VppLocationChanges {
  name?: string | undefined;
  /** Config keys to replace; the others keep their stored value. */
  config?: Record<string, unknown> | undefined;
}

const SORT_COLUMNS = { createdAt: vppLocations.createdAt, updatedAt: vppLocations.updatedAt, name: vppLocations.name };

export function createVppLocationsRepo(db: Executor) {
  const live = (organizationId: string, ...more: SQL[]) =>
    and(eq(vppLocations.organizationId, organizationId), isNull(vppLocations.deletedAt), ...more);

  return {
    async list(organizationId: string, sort: SortSpec<VppLocationSortField>, page: PageRequest) {
      return listPage(db, vppLocations, { where: live(organizationId), sortColumns: SORT_COLUMNS, sort, ...page });
    },

    async get(organizationId: string, id: string): Promise<VppLocationRecord | undefined> {
      const [row] = await db.select().from(vppLocations).where(live(organizationId, eq(vppLocations.id, id))).limit(1);
      return row;
    },

    async insert(organizationId: string, row: NewVppLocationRecord): Promise<VppLocationRecord> {
      const [saved] = await db
        .insert(vppLocations)
        .values({ ...row, organizationId })
        .returning();
      return saved!;
    },

    /** Merges config keys in SQL so concurrent updates of different keys both land. */
    async update(organizationId: string, id: string, changes: VppLocationChanges, now: Date): Promise<VppLocationRecord | undefined> {
      const [row] = await db
        .update(vppLocations)
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.config !== undefined ? { config: sql`${vppLocations.config} || ${JSON.stringify(changes.config)}::jsonb` } : {}),
          updatedAt: now,
        })
        .where(live(organizationId, eq(vppLocations.id, id)))
        .returning();
      return row;
    },

    async softDelete(organizationId: string, id: string, now: Date): Promise<VppLocationRecord | undefined> {
      const [row] = await db
        .update(vppLocations)
        .set({ deletedAt: now })
        .where(live(organizationId, eq(vppLocations.id, id)))
        .returning();
      return row;
    },
  };
}
