import { and, desc, eq, gte } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { windowsDevices } from '../db/schema.ts';
import { listPage } from '../lib/listing.ts';
import type { PageRequest, SortSpec } from '../lib/pagination.ts';
import { deviceListWhere, type DeviceFilter } from './device-list-filter.ts';
import { STATE_LITERALS } from './device-state.ts';
import type { WindowsDeviceSortField } from './devices.schemas.ts';

const { enrolled: ENROLLED, unenrolled: UNENROLLED } = STATE_LITERALS.windows;

export type WindowsDeviceRecord = typeof windowsDevices.$inferSelect;
export type NewWindowsDeviceRecord = Omit<typeof windowsDevices.$inferInsert, 'organizationId'>;

const SORT_COLUMNS = {
  createdAt: windowsDevices.createdAt,
  updatedAt: windowsDevices.updatedAt,
  enrolledAt: windowsDevices.enrolledAt,
  deviceName: windowsDevices.deviceName,
};

/** SQL of the Windows devices; the organization scopes every lookup but the credential one. */
export function createWindowsDevicesRepo(db: Executor) {
  const scoped = (organizationId: string, id: string) => and(eq(windowsDevices.organizationId, organizationId), eq(windowsDevices.id, id));

  return {
    async insert(organizationId: string, row: NewWindowsDeviceRecord): Promise<WindowsDeviceRecord> {
      const [saved] = await db
        .insert(windowsDevices)
        .values({ ...row, organizationId })
        .returning();
      return saved!;
    },

    async get(organizationId: string, id: string): Promise<WindowsDeviceRecord | undefined> {
      const [row] = await db.select().from(windowsDevices).where(scoped(organizationId, id)).limit(1);
      return row;
    },

    async list(organizationId: string, filter: DeviceFilter, sort: SortSpec<WindowsDeviceSortField>, page: PageRequest) {
      const where = deviceListWhere(db, windowsDevices, 'windows', organizationId, filter);
      return listPage(db, windowsDevices, { where, sortColumns: SORT_COLUMNS, sort, ...page });
    },

    /**
     * The enrolled device holding this DeviceID: at most one per organization
     * (windows_devices_org_identifier_enrolled_idx), so there is no "newest row" to pick.
     */
    async findEnrolledByIdentifier(organizationId: string, deviceIdentifier: string): Promise<WindowsDeviceRecord | undefined> {
      const [row] = await db
        .select()
        .from(windowsDevices)
        .where(and(eq(windowsDevices.organizationId, organizationId), eq(windowsDevices.deviceIdentifier, deviceIdentifier), eq(windowsDevices.state, ENROLLED)))
        .limit(1);
      return row;
    },

    /**
     * The device a code enrolled since `since`. Like the code lookup of the token module this is
     * not scoped by organization: the code is the credential, and the row names its organization.
     */
    async findByCodeSince(enrollCodeHash: Buffer, since: Date): Promise<WindowsDeviceRecord | undefined> {
      const [row] = await db
        .select()
        .from(windowsDevices)
        .where(and(eq(windowsDevices.enrollCodeHash, enrollCodeHash), gte(windowsDevices.createdAt, since)))
        .orderBy(desc(windowsDevices.createdAt))
        .limit(1);
      return row;
    },

    async replaceCertificate(organizationId: string, id: string, certificate: { serial: string; thumbprint: string }, at: Date): Promise<void> {
      await db
        .update(windowsDevices)
        .set({ certificateSerial: certificate.serial, certificateThumbprint: certificate.thumbprint, updatedAt: at })
        .where(scoped(organizationId, id));
    },

    async recordSession(organizationId: string, id: string, devInfo: Record<string, string>, at: Date): Promise<void> {
      await db.update(windowsDevices).set({ devInfo, lastSeenAt: at, updatedAt: at }).where(scoped(organizationId, id));
    },

    /** The device's own unenrollment (Alert 1226): it was seen now too. */
    async markUnenrolled(organizationId: string, id: string, at: Date): Promise<void> {
      await db
        .update(windowsDevices)
        .set({ state: UNENROLLED, unenrolledAt: at, lastSeenAt: at, updatedAt: at })
        .where(and(scoped(organizationId, id), eq(windowsDevices.state, ENROLLED)));
    },

    /** An admin retires the device: unenrolled, unless it already was; returns the row either way. */
    async retire(organizationId: string, id: string, at: Date): Promise<WindowsDeviceRecord | undefined> {
      const [retired] = await db
        .update(windowsDevices)
        .set({ state: UNENROLLED, unenrolledAt: at, updatedAt: at })
        .where(and(scoped(organizationId, id), eq(windowsDevices.state, ENROLLED)))
        .returning();
      if (retired) return retired;
      const [row] = await db.select().from(windowsDevices).where(scoped(organizationId, id)).limit(1);
      return row;
    },
  };
}
