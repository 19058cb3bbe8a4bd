import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { appleDevices } from '../../db/schema.ts';
import { listPage } from '../../lib/listing.ts';
import type { PageRequest, SortSpec } from '../../lib/pagination.ts';
import type { AppleDeviceSortField } from './apple-devices.schemas.ts';

export type AppleDeviceRecord = typeof appleDevices.$inferSelect;

const SORT_COLUMNS = {
  createdAt: appleDevices.createdAt,
  updatedAt: appleDevices.updatedAt,
  lastSeenAt: appleDevices.lastSeenAt,
  serialNumber: appleDevices.serialNumber,
};

export function createAppleDevicesRepo(db: Executor) {
  const scoped = (organizationId: string, id: string) => and(eq(appleDevices.organizationId, organizationId), eq(appleDevices.id, id));
  return {
    async list(organizationId: string, sort: SortSpec<AppleDeviceSortField>, page: PageRequest) {
      return listPage(db, appleDevices, { where: eq(appleDevices.organizationId, organizationId), sortColumns: SORT_COLUMNS, sort, ...page });
    },

    async get(organizationId: string, id: string): Promise<AppleDeviceRecord | undefined> {
      const [row] = await db.select().from(appleDevices).where(scoped(organizationId, id)).limit(1);
      return row;
    },

    async insert(organizationId: string, row: Omit<AppleDeviceRecord, 'organizationId'>): Promise<AppleDeviceRecord> {
      const [saved] = await db.insert(appleDevices).values({ ...row, organizationId }).returning();
      return saved!;
    },

    async update(organizationId: string, id: string, changes: Partial<Omit<AppleDeviceRecord, 'organizationId' | 'id'>>): Promise<AppleDeviceRecord | undefined> {
      const [row] = await db.update(appleDevices).set(changes).where(scoped(organizationId, id)).returning();
      return row;
    },
  };
}
