import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { segments } from '../../db/schema.ts';
import { listPage } from '../../lib/listing.ts';
import type { PageRequest, SortSpec } from '../../lib/pagination.ts';
import type { SegmentSortField } from './segments.schemas.ts';

export type SegmentRecord = typeof segments.$inferSelect;
export type NewSegmentRecord = Omit<typeof segments.$inferInsert, 'organizationId' | 'id'>;
export type SegmentChanges = Partial<Pick<SegmentRecord, 'name' | 'parentId'>>;

const SORT_COLUMNS = { createdAt: segments.createdAt, updatedAt: segments.updatedAt, name: segments.name };

export function createSegmentsRepo(db: Executor) {
  const scoped = (organizationId: string, ...more: SQL[]) => and(eq(segments.organizationId, organizationId), ...more);

  return {
    /**
     * Serializes the tree changes of one organization until the transaction ends, so two
     * concurrent moves cannot together make a cycle nor point at a segment being deleted.
     * An advisory lock, not a row lock: token creation, which locks the organization row, is not held up.
     */
    async lockTree(organizationId: string): Promise<void> {
      await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`openroll.segments:${organizationId}`}, 0))`);
    },

    async list(organizationId: string, sort: SortSpec<SegmentSortField>, page: PageRequest) {
      return listPage(db, segments, { where: scoped(organizationId), sortColumns: SORT_COLUMNS, sort, ...page });
    },

    async get(organizationId: string, id: number): Promise<SegmentRecord | undefined> {
      const [row] = await db.select().from(segments).where(scoped(organizationId, eq(segments.id, id))).limit(1);
      return row;
    },

    /** The ids from `id` up to its root, `id` included. UNION (not ALL) stops on a cycle. */
    async ancestorIds(organizationId: string, id: number): Promise<number[]> {
      const result = await db.execute(sql`
        with recursive chain(id, parent_id) as (
          select id, parent_id from ${segments} where organization_id = ${organizationId} and id = ${id}
          union
          select s.id, s.parent_id from ${segments} s join chain c on s.id = c.parent_id where s.organization_id = ${organizationId}
        )
        select id from chain`);
      // Both drivers (node-postgres and PGlite) answer raw queries with `rows`.
      return (result as unknown as { rows: { id: number | string }[] }).rows.map((r) => Number(r.id));
    },

    async insert(organizationId: string, row: NewSegmentRecord): Promise<SegmentRecord> {
      const [saved] = await db
        .insert(segments)
        .values({ ...row, organizationId })
        .returning();
      return saved!;
    },

    async update(organizationId: string, id: number, changes: SegmentChanges, now: Date): Promise<SegmentRecord | undefined> {
      const [row] = await db
        .update(segments)
        .set({ ...changes, updatedAt: now })
        .where(scoped(organizationId, eq(segments.id, id)))
        .returning();
      return row;
    },

    async delete(organizationId: string, id: number): Promise<SegmentRecord | undefined> {
      const [row] = await db.delete(segments).where(scoped(organizationId, eq(segments.id, id))).returning();
      return row;
    },

    async detachChildren(organizationId: string, parentId: number, now: Date): Promise<void> {
      await db
        .update(segments)
        .set({ parentId: null, updatedAt: now })
        .where(scoped(organizationId, eq(segments.parentId, parentId)));
    },
  };
}
