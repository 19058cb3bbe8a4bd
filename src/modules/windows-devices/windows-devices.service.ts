import type { Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { notFound } from '../../errors.ts';
import { NEWEST_FIRST } from '../../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { createWindowsDevicesRepo, type WindowsDeviceRecord } from '../../protocols/windows/windows-devices.repo.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { WINDOWS_DEVICE_SORT_FIELDS, type WindowsDeviceView } from './windows-devices.schemas.ts';

export function toWindowsDeviceView(row: WindowsDeviceRecord): WindowsDeviceView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    winEnrollmentTokenId: row.tokenId,
    userEmail: row.userEmail,
    deviceId: row.deviceIdentifier,
    hwDevId: row.hwDevId,
    deviceName: row.deviceName,
    osVersion: row.osVersion,
    state: row.state === 'unenrolled' ? 'unenrolled' : 'enrolled',
    certificate: { serialNumber: row.certificateSerial, thumbprint: row.certificateThumbprint },
    devInfo: row.devInfo,
    enrollmentContext: row.enrollmentContext,
    enrolledAt: row.enrolledAt.toISOString(),
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    unenrolledAt: row.unenrolledAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The admin API's view of the Windows devices (the protocols write them), and their retirement. */
export function createWindowsDevicesService(deps: { database: Database; clock: Clock; certificateAuthority: CertificateAuthority }) {
  const repo = () => createWindowsDevicesRepo(deps.database.db);
  return {
    async list(auth: AuthContext, query: PageRequest & { sort?: string | undefined }): Promise<Page<WindowsDeviceView>> {
      const sort = parseSort(query.sort, WINDOWS_DEVICE_SORT_FIELDS, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await repo().list(auth.organization.id, sort, page);
      return toPage(items.map(toWindowsDeviceView), total, page);
    },

    async get(auth: AuthContext, id: string): Promise<WindowsDeviceView> {
      const row = await repo().get(auth.organization.id, id.toLowerCase());
      if (!row) throw notFound();
      return toWindowsDeviceView(row);
    },

    /**
     * Retires a device: unenrolled and every certificate issued to it revoked, in one
     * transaction, so its next session is refused and its DeviceID may enroll again (a wiped or
     * re-imaged PC). Retiring a device already unenrolled changes nothing and answers the same.
     */
    async retire(auth: AuthContext, id: string): Promise<WindowsDeviceView> {
      const organizationId = auth.organization.id;
      const now = deps.clock.now();
      const row = await deps.database.db.transaction(async (tx) => {
        const retired = await createWindowsDevicesRepo(tx).retire(organizationId, id.toLowerCase(), now);
        if (retired) await deps.certificateAuthority.revokeDeviceCertificates(tx, organizationId, retired.id);
        return retired;
      });
      if (!row) throw notFound();
      return toWindowsDeviceView(row);
    },
  };
}

export type WindowsDevicesService = ReturnType<typeof createWindowsDevicesService>;
