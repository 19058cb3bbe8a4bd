import type { Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { notFound } from '../../errors.ts';
import { NEWEST_FIRST } from '../../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { createWindowsDevicesRepo, type WindowsDeviceRecord } from '../../protocols/windows/windows-devices.repo.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { emptyCounts, type CommandCounts } from '../../devices/commands/device-command.ts';
import type { DeviceCommandsService } from '../../devices/commands/device-commands.service.ts';
import { WINDOWS_DEVICE_SORT_FIELDS, type WindowsDeviceView } from './windows-devices.schemas.ts';

export function toWindowsDeviceView(row: WindowsDeviceRecord, commands: CommandCounts = emptyCounts()): WindowsDeviceView {
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
    commands,
  };
}

/** The admin API's view of the Windows devices (the protocols write them), and their retirement. */
export function createWindowsDevicesService(deps: { database: Database; clock: Clock; certificateAuthority: CertificateAuthority; commands: DeviceCommandsService }) {
  const repo = () => createWindowsDevicesRepo(deps.database.db);
  // Command queue (issue 23): every device object carries its commands' counts.
  const withCounts = async (organizationId: string, rows: WindowsDeviceRecord[]) => {
    const counts = await deps.commands.counts(organizationId, rows.map((r) => r.id));
    return rows.map((r) => toWindowsDeviceView(r, counts.get(r.id)));
  };
  return {
    async list(auth: AuthContext, query: PageRequest & { sort?: string | undefined }): Promise<Page<WindowsDeviceView>> {
      const sort = parseSort(query.sort, WINDOWS_DEVICE_SORT_FIELDS, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await repo().list(auth.organization.id, sort, page);
      return toPage(await withCounts(auth.organization.id, items), total, page);
    },

    async get(auth: AuthContext, id: string): Promise<WindowsDeviceView> {
      const row = await repo().get(auth.organization.id, id.toLowerCase());
      if (!row) throw notFound();
      return (await withCounts(auth.organization.id, [row]))[0]!;
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
        // Command queue (issue 23): a retired device gets nothing more.
        if (retired) await deps.commands.clear(tx, organizationId, retired.id);
        return retired;
      });
      if (!row) throw notFound();
      return (await withCounts(organizationId, [row]))[0]!;
    },
  };
}

export type WindowsDevicesService = ReturnType<typeof createWindowsDevicesService>;
