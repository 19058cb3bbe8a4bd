import { asc, desc, type AnyColumn, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from '../db/client.ts';
import type { PageRequest, SortSpec } from './pagination.ts';

/** The default order of every listing: newest first. */
export const NEWEST_FIRST = { field: 'createdAt', direction: 'desc' } as const satisfies SortSpec<'createdAt'>;

export interface ListRequest<F extends string> extends PageRequest {
  /** Must already scope to one organization (and to live rows where the table soft-deletes). */
  where: SQL | undefined;
  /** The whitelist: only these fields can be sorted on, each by its column. */
  sortColumns: Record<F, AnyColumn>;
  sort: SortSpec<F>;
}

/**
 * One page of rows and the total under the same WHERE. Ties are broken by id in the sort's
 * direction so pages never overlap or skip rows; a page past the end is simply empty.
 */
export async function listPage<T extends PgTable & { id: AnyColumn }, F extends string>(
  db: Executor,
  table: T,
  { where, sortColumns, sort, page, limit }: ListRequest<F>,
): Promise<{ items: InferSelectModel<T>[]; total: number }> {
  const dir = sort.direction === 'asc' ? asc : desc;
  const [items, total] = await Promise.all([
    db
      .select()
      .from(table as PgTable)
      .where(where)
      .orderBy(dir(sortColumns[sort.field]), dir(table.id))
      .limit(limit)
      .offset((page - 1) * limit),
    db.$count(table, where),
  ]);
  // select() over a generic table loses its row type; the rows are exactly T's select model.
  return { items: items as InferSelectModel<T>[], total };
}

/** `value` as a literal ILIKE substring pattern: its own `%`, `_` and `\` match only themselves. */
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
