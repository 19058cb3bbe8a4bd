import { and, eq, inArray, isNotNull, not } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { appleDevices } from '../../db/schema.ts';
import { tokenNotRefused } from '../../push/push-outbox.repo.ts';

/**
 * Which Apple devices can be pushed: enrolled, with a push token and PushMagic, unless APNs
 * refused that very token (410, or 400 BadDeviceToken, recorded on the push). A TokenUpdate
 * with a new token makes the device pushable again by itself.
 */
// devices/device-state.ts's Apple literal; imported from there it would tie devices/ and commands/ in a cycle.
const ENROLLED = 'ENROLLED';
const pushable = and(eq(appleDevices.state, ENROLLED), isNotNull(appleDevices.pushToken), isNotNull(appleDevices.pushMagic), tokenNotRefused(appleDevices));

export function createPushTargetsRepo(db: Executor) {
  return {
    async find(organizationId: string, deviceId: string): Promise<{ pushToken: Buffer; pushMagic: string } | undefined> {
      const [row] = await db
        .select({ pushToken: appleDevices.pushToken, pushMagic: appleDevices.pushMagic })
        .from(appleDevices)
        .where(and(eq(appleDevices.organizationId, organizationId), eq(appleDevices.id, deviceId), pushable))
        .limit(1);
      return row?.pushToken && row.pushMagic ? { pushToken: row.pushToken, pushMagic: row.pushMagic } : undefined;
    },

    /** Which of these devices' current push token APNs refused for good (the device object's `pushTokenInvalid`). */
    async refusedTokens(organizationId: string, deviceIds: string[]): Promise<Set<string>> {
      if (deviceIds.length === 0) return new Set();
      const rows = await db
        .select({ id: appleDevices.id })
        .from(appleDevices)
        .where(and(eq(appleDevices.organizationId, organizationId), inArray(appleDevices.id, deviceIds), isNotNull(appleDevices.pushToken), not(tokenNotRefused(appleDevices))));
      return new Set(rows.map((r) => r.id));
    },
  };
}
