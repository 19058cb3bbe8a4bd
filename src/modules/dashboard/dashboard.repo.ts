import { and, count, eq, gte, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { appleDevices, deviceCommands, emailOutbox, enrollmentTokens, windowsDevices } from '../../db/schema.ts';
import { stateSql } from '../enrollment-tokens/token-state.ts';

/**
 * The dashboard's figures, each one grouped query led by the organization (no row is read into
 * the process to be counted). Token states go through the one state rule (token-state.ts).
 */
export function createDashboardRepo(db: Executor) {
  return {
    tokensByState(organizationId: string, now: Date) {
      const state = stateSql(now).effective;
      return db
        .select({ platform: enrollmentTokens.platform, state, n: count() })
        .from(enrollmentTokens)
        .where(eq(enrollmentTokens.organizationId, organizationId))
        // By position: the state expression carries `now` as a parameter, and a second copy of it
        // in GROUP BY would be another parameter, which PostgreSQL does not take for the same expression.
        .groupBy(sql`1, 2`);
    },

    expiringSoon(organizationId: string, now: Date, until: Date) {
      return db
        .select({ platform: enrollmentTokens.platform, n: count() })
        .from(enrollmentTokens)
        .where(and(eq(enrollmentTokens.organizationId, organizationId), stateSql(now).open, lte(enrollmentTokens.expireAt, until)))
        .groupBy(enrollmentTokens.platform);
    },

    async enrollmentsPerDay(organizationId: string, since: Date) {
      const day = (column: typeof windowsDevices.enrolledAt | typeof appleDevices.enrolledAt) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`;
      const [windows, apple] = await Promise.all([
        db
          .select({ day: day(windowsDevices.enrolledAt), n: count() })
          .from(windowsDevices)
          .where(and(eq(windowsDevices.organizationId, organizationId), gte(windowsDevices.enrolledAt, since)))
          .groupBy(sql`1`),
        db
          .select({ day: day(appleDevices.enrolledAt), n: count() })
          .from(appleDevices)
          .where(and(eq(appleDevices.organizationId, organizationId), gte(appleDevices.enrolledAt, since)))
          .groupBy(sql`1`),
      ]);
      return { windows, apple };
    },

    emailsFailed(organizationId: string) {
      return db
        .select({ platform: enrollmentTokens.platform, n: count() })
        .from(emailOutbox)
        .innerJoin(enrollmentTokens, and(eq(enrollmentTokens.organizationId, emailOutbox.organizationId), eq(enrollmentTokens.id, emailOutbox.tokenId)))
        .where(and(eq(emailOutbox.organizationId, organizationId), eq(emailOutbox.status, 'failed')))
        .groupBy(enrollmentTokens.platform);
    },

    commandsFailed(organizationId: string) {
      return db
        .select({ platform: deviceCommands.platform, n: count() })
        .from(deviceCommands)
        .where(and(eq(deviceCommands.organizationId, organizationId), eq(deviceCommands.status, 'error')))
        .groupBy(deviceCommands.platform);
    },
  };
}

