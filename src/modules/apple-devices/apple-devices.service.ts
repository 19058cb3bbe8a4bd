import type { Database } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { NEWEST_FIRST } from '../../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { emptyCounts, type CommandCounts } from '../../devices/commands/device-command.ts';
import type { DeviceCommandsService } from '../../devices/commands/device-commands.service.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { createAppleDevicesRepo, type AppleDeviceRecord } from './apple-devices.repo.ts';
import { APPLE_DEVICE_SORT_FIELDS, type AppleDeviceView } from './apple-devices.schemas.ts';

export function toAppleDeviceView(row: AppleDeviceRecord, commands: CommandCounts = emptyCounts()): AppleDeviceView {
  return {
    id: row.id,
    organization: row.organizationId,
    enrollmentToken: row.tokenId,
    state: row.state as AppleDeviceView['state'],
    udid: row.udid,
    serialNumber: row.serialNumber,
    model: row.model,
    modelName: row.modelName,
    productName: row.productName,
    osVersion: row.osVersion,
    buildVersion: row.buildVersion,
    deviceName: row.deviceName,
    topic: row.topic,
    certificateThumbprint: row.certificateThumbprint,
    pushTokenSet: row.pushToken !== null,
    authenticatedAt: row.authenticatedAt.toISOString(),
    enrolledAt: row.enrolledAt?.toISOString() ?? null,
    unenrolledAt: row.unenrolledAt?.toISOString() ?? null,
    lastSeenAt: row.lastSeenAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    commands,
  };
}

/** The admin's read of the Apple devices that checked in (the protocol side writes them), and their retirement. */
export function createAppleDevicesService(deps: { database: Database; ca: CertificateAuthority; clock: Clock; commands: DeviceCommandsService }) {
  const repo = () => createAppleDevicesRepo(deps.database.db);
  // Command queue (issue 23): every device object carries its commands' counts.
  const withCounts = async (organizationId: string, rows: AppleDeviceRecord[]) => {
    const counts = await deps.commands.counts(organizationId, rows.map((r) => r.id));
    return rows.map((r) => toAppleDeviceView(r, counts.get(r.id)));
  };
  return {
    async list(auth: AuthContext, query: PageRequest & { sort?: string | undefined }): Promise<Page<AppleDeviceView>> {
      const sort = parseSort(query.sort, APPLE_DEVICE_SORT_FIELDS, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await repo().list(auth.organization.id, sort, page);
      return toPage(await withCounts(auth.organization.id, items), total, page);
    },

    async get(auth: AuthContext, id: string): Promise<AppleDeviceView> {
      const row = await repo().get(auth.organization.id, id.toLowerCase());
      if (!row) throw notFound();
      return (await withCounts(auth.organization.id, [row]))[0]!;
    },

    /**
     * Unenrolls the device and revokes its identities in one transaction: its check-ins are
     * refused from then on, and its UDID can enroll again (a wiped device, with a new token).
     */
    async retire(auth: AuthContext, id: string): Promise<AppleDeviceView> {
      const organizationId = auth.organization.id;
      const now = deps.clock.now();
      const row = await deps.database.db.transaction(async (tx) => {
        const devices = createAppleDevicesRepo(tx);
        const row = await devices.get(organizationId, id.toLowerCase());
        if (!row) throw notFound();
        await deps.ca.revokeDeviceCertificates(tx, organizationId, row.id);
        // Command queue (issue 23): a retired device gets nothing more.
        await deps.commands.clear(tx, organizationId, row.id);
        if (row.state === 'UNENROLLED') return row;
        return (await devices.update(organizationId, row.id, { state: 'UNENROLLED', unenrolledAt: now, updatedAt: now }))!;
      });
      return (await withCounts(organizationId, [row]))[0]!;
    },
  };
}

export type AppleDevicesService = ReturnType<typeof createAppleDevicesService>;
