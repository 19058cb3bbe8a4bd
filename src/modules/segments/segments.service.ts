import type { Database } from '../../db/client.ts';
import { notFound, validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { NEWEST_FIRST } from '../../lib/listing.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { createSegmentsRepo, type SegmentChanges, type SegmentRecord } from './segments.repo.ts';
import { SEGMENT_SORT_FIELDS, type SegmentView } from './segments.schemas.ts';

export interface SegmentInput {
  name?: string | undefined;
  parentId?: number | null | undefined;
}

export interface SegmentQuery extends PageRequest {
  sort?: string | undefined;
}

export function toSegmentView(row: SegmentRecord): SegmentView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    name: row.name,
    parentId: row.parentId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const parentError = (message: string) => validationError([{ path: 'body.parentId', message }]);

export function createSegmentsService(deps: { database: Database; clock: Clock }) {
  const { db } = deps.database;

  return {
    async list(auth: AuthContext, query: SegmentQuery): Promise<Page<SegmentView>> {
      const sort = parseSort(query.sort, SEGMENT_SORT_FIELDS, NEWEST_FIRST);
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await createSegmentsRepo(db).list(auth.organization.id, sort, page);
      return toPage(items.map(toSegmentView), total, page);
    },

    async get(auth: AuthContext, id: number): Promise<SegmentView> {
      const row = await createSegmentsRepo(db).get(auth.organization.id, id);
      if (!row) throw notFound();
      return toSegmentView(row);
    },

    async create(auth: AuthContext, input: { name: string; parentId?: number | null | undefined }): Promise<SegmentView> {
      const orgId = auth.organization.id;
      return db.transaction(async (tx) => {
        const repo = createSegmentsRepo(tx);
        const parentId = input.parentId ?? null;
        if (parentId !== null) {
          await repo.lockTree(orgId);
          if (!(await repo.get(orgId, parentId))) throw notFound();
        }
        const now = deps.clock.now();
        return toSegmentView(await repo.insert(orgId, { name: input.name, parentId, createdAt: now, updatedAt: now }));
      });
    },

    async update(auth: AuthContext, id: number, input: SegmentInput): Promise<SegmentView> {
      const orgId = auth.organization.id;
      if (input.parentId === id) throw parentError('cannot be the segment itself');
      return db.transaction(async (tx) => {
        const repo = createSegmentsRepo(tx);
        await repo.lockTree(orgId);
        if (!(await repo.get(orgId, id))) throw notFound();
        const changes: SegmentChanges = {};
        if (input.name !== undefined) changes.name = input.name;
        if (input.parentId !== undefined) {
          if (input.parentId !== null) {
            if (!(await repo.get(orgId, input.parentId))) throw notFound();
            // The new parent must not sit below the segment: that would close a loop.
            if ((await repo.ancestorIds(orgId, input.parentId)).includes(id)) throw parentError('cannot be a descendant of the segment');
          }
          changes.parentId = input.parentId;
        }
        const row = await repo.update(orgId, id, changes, deps.clock.now());
        if (!row) throw notFound();
        return toSegmentView(row);
      });
    },

    /** A hard delete; the children move to the top level in the same transaction. */
    async remove(auth: AuthContext, id: number): Promise<SegmentView> {
      const orgId = auth.organization.id;
      return db.transaction(async (tx) => {
        const repo = createSegmentsRepo(tx);
        await repo.lockTree(orgId);
        const row = await repo.delete(orgId, id);
        if (!row) throw notFound();
        await repo.detachChildren(orgId, id, deps.clock.now());
        return toSegmentView(row);
      });
    },
  };
}

export type SegmentsService = ReturnType<typeof createSegmentsService>;
