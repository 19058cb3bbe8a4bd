import { and, eq, isNull, like, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { mdmUsers } from '../../db/schema.ts';
import { containsPattern, listPage } from '../../lib/listing.ts';
import type { PageRequest, SortSpec } from '../../lib/pagination.ts';
import type { MdmUserSortField } from './mdm-users.schemas.ts';

export type MdmUserRecord = typeof mdmUsers.$inferSelect;
export type NewMdmUserRecord = Omit<typeof mdmUsers.$inferInsert, 'organizationId'>;
export type MdmUserChanges = Partial<Pick<MdmUserRecord, 'email' | 'name' | 'language' | 'tags'>>;

/** The unique index that keeps one live user per email and organization. */
export const MDM_USER_EMAIL_INDEX = 'mdm_users_org_email_idx';

export interface MdmUserFilter {
  /** Raw text, matched literally: its wildcards are escaped here. */
  search?: string | undefined;
  /** Normalized (trimmed, lower-cased) email. */
  email?: string | undefined;
}

const SORT_COLUMNS = {
  createdAt: mdmUsers.createdAt,
  updatedAt: mdmUsers.updatedAt,
  email: mdmUsers.email,
  name: mdmUsers.name,
};

export function createMdmUsersRepo(db: Executor) {
  const live = (organizationId: string, ...more: (SQL | undefined)[]) =>
    and(eq(mdmUsers.organizationId, organizationId), isNull(mdmUsers.deletedAt), ...more);

  return {
    async list(organizationId: string, filter: MdmUserFilter, sort: SortSpec<MdmUserSortField>, page: PageRequest) {
      const conditions: SQL[] = [];
      if (filter.search) {
        const pattern = containsPattern(filter.search);
        // lower(...) LIKE lower(pattern) rather than ILIKE, which lowers the pattern again for
        // every row in a UTF-8 database; the trigram index is on the same expressions (0013).
        const lowered = sql`lower(${pattern})`;
        conditions.push(or(like(sql`lower(${mdmUsers.email})`, lowered), like(sql`lower(${mdmUsers.name})`, lowered))!);
      }
      if (filter.email !== undefined) conditions.push(eq(mdmUsers.email, filter.email));
      return listPage(db, mdmUsers, { where: live(organizationId, ...conditions), sortColumns: SORT_COLUMNS, sort, ...page });
    },

    async get(organizationId: string, id: string): Promise<MdmUserRecord | undefined> {
      const [row] = await db.select().from(mdmUsers).where(live(organizationId, eq(mdmUsers.id, id))).limit(1);
      return row;
    },

    /** Whether a live user other than `exceptId` already has the email. */
    async emailTaken(organizationId: string, email: string, exceptId?: string): Promise<boolean> {
      const [row] = await db
        .select({ id: mdmUsers.id })
        .from(mdmUsers)
        .where(live(organizationId, eq(mdmUsers.email, email), exceptId ? ne(mdmUsers.id, exceptId) : undefined))
        .limit(1);
      return row !== undefined;
    },

    async insert(organizationId: string, row: NewMdmUserRecord): Promise<MdmUserRecord> {
      const [saved] = await db
        .insert(mdmUsers)
        .values({ ...row, organizationId })
        .returning();
      return saved!;
    },

    async update(organizationId: string, id: string, changes: MdmUserChanges, now: Date): Promise<MdmUserRecord | undefined> {
      const [row] = await db
        .update(mdmUsers)
        .set({ ...changes, updatedAt: now })
        .where(live(organizationId, eq(mdmUsers.id, id)))
        .returning();
      return row;
    },

    async softDelete(organizationId: string, id: string, now: Date): Promise<MdmUserRecord | undefined> {
      const [row] = await db
        .update(mdmUsers)
        .set({ deletedAt: now })
        .where(live(organizationId, eq(mdmUsers.id, id)))
        .returning();
      return row;
    },
  };
}
