import { and, eq, gte, inArray, isNull, lt, or, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { enrollmentTokens } from '../db/schema.ts';
import type { Platform } from '../platforms/platforms.ts';

/** The list's filters, parsed: each one given narrows the list (devices.schemas.ts, listQuery). */
export interface DeviceFilter {
  state?: string | undefined;
  mdmUserId?: string | undefined;
  lastSeenAfter?: Date | undefined;
  lastSeenBefore?: Date | undefined;
}

/** The columns the filter reads: both device tables have them under the same names. */
interface DeviceColumns {
  organizationId: AnyColumn;
  tokenId: AnyColumn;
  state: AnyColumn;
  lastSeenAt: AnyColumn;
}

/**
 * The WHERE of one platform's device list: the organization first, then each filter given. The
 * user is the one of the token the device enrolled with (a device row keeps its token, not its
 * user), so it is a semi-join on the organization's tokens of that platform and user.
 */
export function deviceListWhere(db: Executor, table: DeviceColumns, platform: Platform, organizationId: string, filter: DeviceFilter): SQL | undefined {
  const conditions: Array<SQL | undefined> = [eq(table.organizationId, organizationId)];
  if (filter.state) conditions.push(eq(table.state, filter.state));
  if (filter.mdmUserId) {
    const tokens = db
      .select({ id: enrollmentTokens.id })
      .from(enrollmentTokens)
      .where(and(eq(enrollmentTokens.organizationId, organizationId), eq(enrollmentTokens.platform, platform), eq(enrollmentTokens.mdmUserId, filter.mdmUserId)));
    conditions.push(inArray(table.tokenId, tokens));
  }
  if (filter.lastSeenAfter) conditions.push(gte(table.lastSeenAt, filter.lastSeenAfter));
  // A device never seen (a Windows PC before its first session) is as stale as one seen long ago.
  if (filter.lastSeenBefore) conditions.push(or(isNull(table.lastSeenAt), lt(table.lastSeenAt, filter.lastSeenBefore)));
  return and(...conditions);
}
