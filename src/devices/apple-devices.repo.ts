import { and, eq, ne } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { appleDevices } from '../db/schema.ts';
import { listPage } from '../lib/listing.ts';
import type { PageRequest, SortSpec } from '../lib/pagination.ts';
import { deviceListWhere, type DeviceFilter } from './device-list-filter.ts';
import { STATE_LITERALS } from './device-state.ts';
import type { AppleDeviceSortField } from './devices.schemas.ts';

const { authenticated: AUTHENTICATED, enrolled: ENROLLED, unenrolled: UNENROLLED } = STATE_LITERALS.apple;

export type AppleDeviceRecord = typeof appleDevices.$inferSelect;

/** The partial unique index that keeps one ENROLLED device per UDID. */
export const ENROLLED_UDID_INDEX = 'apple_devices_org_enrolled_udid_idx';

const SORT_COLUMNS = {
  createdAt: appleDevices.createdAt,
  updatedAt: appleDevices.updatedAt,
  lastSeenAt: appleDevices.lastSeenAt,
  serialNumber: appleDevices.serialNumber,
};

export function createAppleDevicesRepo(db: Executor) {
  const scoped = (organizationId: string, id: string) => and(eq(appleDevices.organizationId, organizationId), eq(appleDevices.id, id));
  return {
    async list(organizationId: string, filter: DeviceFilter, sort: SortSpec<AppleDeviceSortField>, page: PageRequest) {
      const where = deviceListWhere(db, appleDevices, 'apple', organizationId, filter);
      return listPage(db, appleDevices, { where, sortColumns: SORT_COLUMNS, sort, ...page });
    },

    async get(organizationId: string, id: string): Promise<AppleDeviceRecord | undefined> {
      const [row] = await db.select().from(appleDevices).where(scoped(organizationId, id)).limit(1);
      return row;
    },

    /** The enrolled device holding a UDID: there is at most one. */
    async findEnrolledByUdid(organizationId: string, udid: string): Promise<AppleDeviceRecord | undefined> {
      const [row] = await db
        .select()
        .from(appleDevices)
        .where(and(eq(appleDevices.organizationId, organizationId), eq(appleDevices.udid, udid), eq(appleDevices.state, ENROLLED)))
        .limit(1);
      return row;
    },

    async insert(organizationId: string, row: Omit<AppleDeviceRecord, 'organizationId'>): Promise<AppleDeviceRecord> {
      const [saved] = await db.insert(appleDevices).values({ ...row, organizationId }).returning();
      return saved!;
    },

    /** Changes a device unless it is UNENROLLED (checked out, retired or superseded meanwhile). */
    async updateLive(organizationId: string, id: string, changes: Partial<Omit<AppleDeviceRecord, 'organizationId' | 'id'>>): Promise<AppleDeviceRecord | undefined> {
      const [row] = await db
        .update(appleDevices)
        .set(changes)
        .where(and(scoped(organizationId, id), ne(appleDevices.state, UNENROLLED)))
        .returning();
      return row;
    },

    /** Every other attempt of a UDID that authenticated but never enrolled -> UNENROLLED; returns their ids. */
    async supersedeAttempts(organizationId: string, udid: string, exceptId: string, now: Date): Promise<string[]> {
      const rows = await db
        .update(appleDevices)
        .set({ state: UNENROLLED, unenrolledAt: now, updatedAt: now })
        .where(and(eq(appleDevices.organizationId, organizationId), eq(appleDevices.udid, udid), eq(appleDevices.state, AUTHENTICATED), ne(appleDevices.id, exceptId)))
        .returning({ id: appleDevices.id });
      return rows.map((r) => r.id);
    },

    async update(organizationId: string, id: string, changes: Partial<Omit<AppleDeviceRecord, 'organizationId' | 'id'>>): Promise<AppleDeviceRecord | undefined> {
      const [row] = await db.update(appleDevices).set(changes).where(scoped(organizationId, id)).returning();
      return row;
    },
  
    /** An admin retires the device: unenrolled, unless it already was; returns the row either way. */
    async retire(organizationId: string, id: string, at: Date): Promise<AppleDeviceRecord | undefined> {
      const [retired] = await db
        .update(appleDevices)
        .set({ state: UNENROLLED, unenrolledAt: at, updatedAt: at })
        .where(and(scoped(organizationId, id), ne(appleDevices.state, UNENROLLED)))
        .returning();
      if (retired) return retired;
      const [row] = await db.select().from(appleDevices).where(scoped(organizationId, id)).limit(1);
      return row;
    },
  };
}
