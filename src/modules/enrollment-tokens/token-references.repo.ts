import { and, eq, inArray, isNull } from 'drizzle-orm';
import { insertRowsReturning } from '../../db/bulk-insert.ts';
import type { Executor } from '../../db/client.ts';
import { enterprises, mdmUsers, policies, segments, vppLocations } from '../../db/schema.ts';
import { chunked } from '../../lib/chunks.ts';
import type { Platform } from '../../platforms/platforms.ts';

export type MdmUserRecord = typeof mdmUsers.$inferSelect;
export type PolicyRecord = typeof policies.$inferSelect;
export type VppLocationRecord = typeof vppLocations.$inferSelect;
export type EnterpriseRecord = typeof enterprises.$inferSelect;

const LOOKUP_CHUNK = 5_000;

/**
 * Enterprises are created with their organization and never change through the API, and every
 * token view shows its enterprise: they are read once per process. Bounded, oldest out first.
 */
const enterpriseCache = new Map<string, EnterpriseRecord>();
const ENTERPRISE_CACHE_ENTRIES = 10_000;

/**
 * What a token references, read the way the token core needs it: live rows to check a new
 * reference, and any row (deleted too) to show what an existing token was made with.
 */
export function createTokenReferencesRepo(db: Executor) {
  return {
    async enterprise(organizationId: string, platform: Platform): Promise<EnterpriseRecord | undefined> {
      const cacheKey = `${organizationId}:${platform}`;
      const cached = enterpriseCache.get(cacheKey);
      if (cached) return cached;
      const [row] = await db
        .select()
        .from(enterprises)
        .where(and(eq(enterprises.organizationId, organizationId), eq(enterprises.platform, platform)))
        .limit(1);
      if (row) {
        if (enterpriseCache.size >= ENTERPRISE_CACHE_ENTRIES) enterpriseCache.delete(enterpriseCache.keys().next().value!);
        enterpriseCache.set(cacheKey, row);
      }
      return row;
    },

    async liveUser(organizationId: string, id: string): Promise<MdmUserRecord | undefined> {
      const [row] = await db
        .select()
        .from(mdmUsers)
        .where(and(eq(mdmUsers.organizationId, organizationId), eq(mdmUsers.id, id), isNull(mdmUsers.deletedAt)))
        .limit(1);
      return row;
    },

    async liveUsersByEmails(organizationId: string, emails: string[]): Promise<MdmUserRecord[]> {
      const out: MdmUserRecord[] = [];
      for (const chunk of chunked(emails, LOOKUP_CHUNK)) {
        out.push(
          ...(await db
            .select()
            .from(mdmUsers)
            .where(and(eq(mdmUsers.organizationId, organizationId), inArray(mdmUsers.email, chunk), isNull(mdmUsers.deletedAt)))),
        );
      }
      return out;
    },

    /** Inserts users, skipping emails a concurrent request has just taken; returns those it inserted. */
    async insertUsers(organizationId: string, rows: (typeof mdmUsers.$inferInsert)[]): Promise<MdmUserRecord[]> {
      return insertRowsReturning(
        db,
        mdmUsers,
        rows.map((r) => ({ ...r, organizationId })),
        { onConflictDoNothing: true },
      );
    },

    async livePolicies(organizationId: string, platform: Platform, ids: string[]): Promise<PolicyRecord[]> {
      if (ids.length === 0) return [];
      return db
        .select()
        .from(policies)
        .where(and(eq(policies.organizationId, organizationId), eq(policies.platform, platform), inArray(policies.id, ids), isNull(policies.deletedAt)));
    },

    /** Policies by id for embedding, deleted ones included. */
    async policiesByIds(organizationId: string, ids: string[]): Promise<PolicyRecord[]> {
      if (ids.length === 0) return [];
      return db.select().from(policies).where(and(eq(policies.organizationId, organizationId), inArray(policies.id, ids)));
    },

    async liveVppLocation(organizationId: string, id: string): Promise<VppLocationRecord | undefined> {
      const [row] = await db
        .select()
        .from(vppLocations)
        .where(and(eq(vppLocations.organizationId, organizationId), eq(vppLocations.id, id), isNull(vppLocations.deletedAt)))
        .limit(1);
      return row;
    },

    async vppLocationsByIds(organizationId: string, ids: string[]): Promise<VppLocationRecord[]> {
      if (ids.length === 0) return [];
      return db.select().from(vppLocations).where(and(eq(vppLocations.organizationId, organizationId), inArray(vppLocations.id, ids)));
    },

    async segmentExists(organizationId: string, id: number): Promise<boolean> {
      const [row] = await db
        .select({ id: segments.id })
        .from(segments)
        .where(and(eq(segments.organizationId, organizationId), eq(segments.id, id)))
        .limit(1);
      return row !== undefined;
    },
  };
}
