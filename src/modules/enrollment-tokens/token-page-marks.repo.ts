import { and, asc, desc, eq, lte, ne, sql, type AnyColumn, type Placeholder, type SQL } from 'drizzle-orm';
import type { SelectedFields } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.ts';
import { enrollmentTokens, mdmUsers, tokenCounts, tokenPageMarks } from '../../db/schema.ts';
import type { SortSpec } from '../../lib/pagination.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { TokenFilter, TokenSortField } from './token.repo.ts';

/**
 * Deep list pages without walking the offset. The API is page-numbered with an exact total, so
 * it cannot hand out cursors; instead, after serving a deep page, the server records the token
 * the page started with (a mark: list shape, position, the list's version). A later deep page of
 * the same list starts from the nearest mark at or before its offset, by keyset on (sort key,
 * id), and walks only what lies between. Marks live in PostgreSQL, so every server process uses
 * the marks of the others.
 *
 * The version is the sum of `token_counts.changes`, to which every committed insert, update and
 * delete of the list's tokens adds the rows it touched (migration 0015). Committed transactions
 * are visible to snapshots in one order and only add, so two snapshots that read the same sum
 * saw the same tokens with the same values: a mark of that version still sits at its position.
 * The version, the mark and the page are read by one statement (one snapshot). A mark of another
 * version is never used: the page is then walked from the start, as before, and marked anew.
 */

/** Shallower pages walk their offset: a few hundred index entries cost less than a mark's write. */
export const DEEP_PAGE_OFFSET = 1000;

/**
 * Sorts whose order depends on the tokens alone. The state and updatedAt sorts read the clock (a
 * PENDING token turns EXPIRED, and shows expireAt as its updatedAt, without a write) and the
 * email sort reads users, whose changes the version does not count: those pages keep walking
 * the offset. All these columns are NOT NULL.
 */
type MarkedSort = Exclude<TokenSortField, 'state' | 'updatedAt' | 'mdmUser.email'>;
const MARKED_COLUMNS: Record<MarkedSort, AnyColumn> = {
  createdAt: enrollmentTokens.createdAt,
  expireAt: enrollmentTokens.expireAt,
  displayName: enrollmentTokens.displayName,
  type: enrollmentTokens.type,
  subType: enrollmentTokens.subType,
};
const isMarked = (field: TokenSortField): field is MarkedSort => field in MARKED_COLUMNS;

/** What a page selects and how it joins a token's user: the list's own view (token.repo.ts). */
export interface TokenView {
  columns: SelectedFields;
  userOfToken: SQL | undefined;
}

/** The list a mark belongs to: what decides the order of its tokens, not the page size. */
export function markShape(filter: TokenFilter, sort: SortSpec<TokenSortField>, offset: number): string | undefined {
  if (offset < DEEP_PAGE_OFFSET || filter.policyId || !isMarked(sort.field)) return undefined;
  return [filter.showDeleted ? 'all' : 'live', sort.field, sort.direction, filter.mdmUserId ? `user=${filter.mdmUserId}` : ''].join(':');
}

const statementsByDb = new WeakMap<object, Map<string, ReturnType<typeof buildDeepPage>>>();

function buildDeepPage(db: Executor, view: TokenView, filter: TokenFilter, sort: { field: MarkedSort; direction: 'asc' | 'desc' }, literalLimit: number | undefined, name: string) {
  const p = sql.placeholder;
  const conditions: SQL[] = [eq(enrollmentTokens.organizationId, p('org')), eq(enrollmentTokens.platform, p('platform'))];
  if (!filter.showDeleted) conditions.push(ne(enrollmentTokens.state, 'DELETED'));
  if (filter.mdmUserId) conditions.push(eq(enrollmentTokens.mdmUserId, p('user')));
  const where = and(...conditions)!;
  const key = MARKED_COLUMNS[sort.field];
  const dir = sort.direction === 'asc' ? asc : desc;

  const listVersion = db.$with('list_version').as(
    db
      .select({ v: sql<string>`coalesce(sum(${tokenCounts.changes}), 0)::bigint`.as('v') })
      .from(tokenCounts)
      .where(and(eq(tokenCounts.organizationId, p('org')), eq(tokenCounts.platform, p('platform')))),
  );
  // The nearest mark at or before the offset, with its token's sort key as it is now (unchanged
  // while the version is).
  const listMark = db.$with('list_mark').as(
    db
      .select({ position: sql<string>`${tokenPageMarks.position}`.as('mark_position'), markKey: sql`${key}`.as('mark_key'), markId: sql<string>`${enrollmentTokens.id}`.as('mark_id') })
      .from(tokenPageMarks)
      .innerJoin(enrollmentTokens, and(eq(enrollmentTokens.organizationId, tokenPageMarks.organizationId), eq(enrollmentTokens.id, tokenPageMarks.tokenId)))
      .where(
        and(
          eq(tokenPageMarks.organizationId, p('org')),
          eq(tokenPageMarks.platform, p('platform')),
          eq(tokenPageMarks.shape, p('shape')),
          sql`${tokenPageMarks.version} = (select v from list_version)`,
          lte(tokenPageMarks.position, p('offset')),
        ),
      )
      .orderBy(desc(tokenPageMarks.position))
      .limit(1),
  );
  // Without a mark the walk starts at the list's first token: today's offset walk. The probe
  // runs only then (a one-time filter), so a hit does not pay for it.
  const listFirst = db.$with('list_first').as(
    db
      .select({ markKey: sql`${key}`.as('first_key'), markId: sql<string>`${enrollmentTokens.id}`.as('first_id') })
      .from(enrollmentTokens)
      .where(and(where, sql`not exists (select 1 from list_mark)`))
      .orderBy(dir(key), dir(enrollmentTokens.id))
      .limit(1),
  );
  const startKey = sql`coalesce((select mark_key from list_mark), (select first_key from list_first))`;
  const startId = sql`coalesce((select mark_id from list_mark), (select first_id from list_first))`;
  const fromStart = sort.direction === 'asc' ? sql`(${key}, ${enrollmentTokens.id}) >= (${startKey}, ${startId})` : sql`(${key}, ${enrollmentTokens.id}) <= (${startKey}, ${startId})`;

  const pageIds = db
    .select({ pageId: enrollmentTokens.id })
    .from(enrollmentTokens)
    .where(and(where, fromStart))
    .orderBy(dir(key), dir(enrollmentTokens.id))
    // Drizzle binds a number as a parameter: a literal page size goes in as SQL (see token.repo.ts).
    .limit(literalLimit === undefined ? p('limit') : (sql.raw(String(literalLimit)) as unknown as Placeholder))
    .offset(sql`${p('offset')} - coalesce((select mark_position from list_mark), 0)` as unknown as Placeholder)
    .as('page_ids');
  const page = db
    .with(listVersion, listMark, listFirst)
    .select({
      ...view.columns,
      listVersion: sql<string>`(select v from list_version)`,
      markPosition: sql<string | null>`(select mark_position from list_mark)`,
    })
    .from(enrollmentTokens)
    .innerJoin(pageIds, eq(pageIds.pageId, enrollmentTokens.id))
    .leftJoin(mdmUsers, view.userOfToken)
    .orderBy(dir(key), dir(enrollmentTokens.id));
  return page.prepare(`tokens_deep_${name}`);
}

export interface DeepPageRequest {
  shape: string;
  limit: number;
  literalLimit: number | undefined;
  offset: number;
}

/**
 * One deep page of a marked shape (markShape), read from the nearest mark of the current version;
 * then, unless the page started exactly at a mark, its first token is marked at its offset.
 */
export async function readDeepPage(
  db: Executor,
  view: TokenView,
  organizationId: string,
  platform: Platform,
  filter: TokenFilter,
  sort: SortSpec<TokenSortField>,
  request: DeepPageRequest,
): Promise<Array<Record<string, unknown>>> {
  if (!isMarked(sort.field)) throw new Error(`sort ${sort.field} is not served from marks`);
  const name = [filter.showDeleted ? 'all' : 'live', filter.mdmUserId ? 'user' : '', sort.field, sort.direction, request.literalLimit ?? 'n'].join('_');
  let byName = statementsByDb.get(db);
  if (!byName) statementsByDb.set(db, (byName = new Map()));
  let statement = byName.get(name);
  if (!statement) byName.set(name, (statement = buildDeepPage(db, view, filter, { field: sort.field, direction: sort.direction }, request.literalLimit, name)));
  const rows = await statement.execute({
    org: organizationId,
    platform,
    user: filter.mdmUserId ?? null,
    shape: request.shape,
    limit: request.limit,
    offset: request.offset,
  });
  const first = rows[0];
  if (first && Number(first.markPosition) !== request.offset) {
    await writeMark(db, organizationId, platform, request.shape, Number(first.listVersion), request.offset, (first as unknown as { token: { id: string } }).token.id);
  }
  return rows.map(({ listVersion: _version, markPosition: _position, ...row }) => row);
}

/**
 * Records a mark, and drops the marks of the list's older versions: they can never be used again
 * once a newer version is committed, so one version's marks are kept per list. Rows another
 * request is dropping at the same moment are skipped, so two writers never wait on each other.
 */
async function writeMark(db: Executor, organizationId: string, platform: Platform, shape: string, version: number, position: number, tokenId: string): Promise<void> {
  await db.execute(sql`
    with pruned as (
      delete from ${tokenPageMarks}
      where (organization_id, platform, shape, version, position) in (
        select organization_id, platform, shape, version, position from ${tokenPageMarks}
        where organization_id = ${organizationId} and platform = ${platform} and version < ${version}
        for update skip locked)
    )
    insert into ${tokenPageMarks} (organization_id, platform, shape, version, position, token_id)
    values (${organizationId}, ${platform}, ${shape}, ${version}, ${position}, ${tokenId})
    on conflict do nothing`);
}
