import type { AuthContext } from '../auth/auth-context.ts';
import type { Database, Executor } from '../db/client.ts';
import { notFound } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { NEWEST_FIRST } from '../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest, type SortSpec } from '../lib/pagination.ts';
import type { CertificateAuthority } from '../pki/certificate-authority.ts';
import type { DeviceCommandsService } from './commands/device-commands.service.ts';
import type { Platform } from '../platforms/platforms.ts';
import type { CommandCounts, PolicyState } from './commands/device-command.ts';
import { createAppleDevicesRepo } from './apple-devices.repo.ts';
import { createPushTargetsRepo } from './commands/push-targets.repo.ts';
import type { DeviceFilter } from './device-list-filter.ts';
import { toAppleDeviceView, toWindowsDeviceView } from './device.views.ts';
import { APPLE_DEVICE_SORT_FIELDS, WINDOWS_DEVICE_SORT_FIELDS, type AppleDeviceView, type WindowsDeviceView } from './devices.schemas.ts';
import { createWindowsDevicesRepo } from './windows-devices.repo.ts';

/** What the admin face needs of one platform's devices: its table's reads and retirement, and its view. */
interface DeviceKind<Row extends { id: string }, View, Sort extends string> {
  sortFields: readonly Sort[];
  repo(db: Executor): {
    list(organizationId: string, filter: DeviceFilter, sort: SortSpec<Sort>, page: PageRequest): Promise<{ items: Row[]; total: number }>;
    get(organizationId: string, id: string): Promise<Row | undefined>;
    /** Unenrolled unless it already was; the row either way, undefined for no such device. */
    retire(organizationId: string, id: string, at: Date): Promise<Row | undefined>;
  };
  /** `pushRefused`: APNs refused the device's current push token (Apple only). */
  view(row: Row, commands?: CommandCounts, policies?: PolicyState[], pushRefused?: boolean): View;
}

const KINDS = {
  windows: { sortFields: WINDOWS_DEVICE_SORT_FIELDS, repo: createWindowsDevicesRepo, view: toWindowsDeviceView },
  apple: { sortFields: APPLE_DEVICE_SORT_FIELDS, repo: createAppleDevicesRepo, view: toAppleDeviceView },
} satisfies Record<Platform, DeviceKind<{ id: string }, unknown, string>>;

export interface DeviceViews {
  windows: WindowsDeviceView;
  apple: AppleDeviceView;
}

export interface DevicesService<P extends Platform> {
  list(auth: AuthContext, query: PageRequest & { sort?: string | undefined; filter?: DeviceFilter }): Promise<Page<DeviceViews[P]>>;
  get(auth: AuthContext, id: string): Promise<DeviceViews[P]>;
  retire(auth: AuthContext, id: string): Promise<DeviceViews[P]>;
}

/**
 * The admin API's face of one platform's devices (the protocols write them through the
 * lifecycle services of this folder): list, get, and retirement.
 */
export function createDevicesService<P extends Platform>(platform: P, deps: { database: Database; clock: Clock; certificateAuthority: CertificateAuthority; commands: DeviceCommandsService }): DevicesService<P> {
  const kind = KINDS[platform] as unknown as DeviceKind<{ id: string }, DeviceViews[P], string>;
  const repo = () => kind.repo(deps.database.db);
  // Every device object carries its commands' counts and its state per policy (CONTRACT.md section 6).
  const withCounts = async (organizationId: string, rows: Array<{ id: string }>) => {
    const ids = rows.map((r) => r.id);
    const [counts, policies, refused] = await Promise.all([
      deps.commands.counts(organizationId, ids),
      deps.commands.policyStates(organizationId, ids),
      platform === 'apple' ? createPushTargetsRepo(deps.database.db).refusedTokens(organizationId, ids) : new Set<string>(),
    ]);
    return rows.map((r) => kind.view(r, counts.get(r.id), policies.get(r.id), refused.has(r.id)));
  };
  return {
    async list(auth, query) {
      const sort = parseSort(query.sort, kind.sortFields, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await repo().list(auth.organization.id, query.filter ?? {}, sort, page);
      return toPage(await withCounts(auth.organization.id, items), total, page);
    },

    async get(auth, id) {
      const row = await repo().get(auth.organization.id, id.toLowerCase());
      if (!row) throw notFound();
      return (await withCounts(auth.organization.id, [row]))[0]!;
    },

    /**
     * Retires a device: unenrolled and every certificate issued to it revoked, in one
     * transaction, so its next session or check-in is refused and its DeviceID or UDID may
     * enroll again (a wiped or re-imaged device). Retiring a device already unenrolled changes
     * nothing and answers the same. Its queued and sent commands are cleared in the same transaction.
     */
    async retire(auth, id) {
      const organizationId = auth.organization.id;
      const now = deps.clock.now();
      const row = await deps.database.db.transaction(async (tx) => {
        const retired = await kind.repo(tx).retire(organizationId, id.toLowerCase(), now);
        if (retired) {
          await deps.certificateAuthority.revokeDeviceCertificates(tx, organizationId, retired.id);
          // A retired device gets nothing more: its queue is cleared with it.
          await deps.commands.clear(tx, organizationId, retired.id);
        }
        return retired;
      });
      if (!row) throw notFound();
      return (await withCounts(organizationId, [row]))[0]!;
    },
  };
}
