import { and, asc, desc, eq, inArray, ne, or, sql, type AnyColumn, type Placeholder, type SQL } from 'drizzle-orm';
import { insertRowsReturning, type DependentRows } from '../../db/bulk-insert.ts';
import type { Executor } from '../../db/client.ts';
import { enrollmentTokens, mdmUsers, organizations, tokenCounts } from '../../db/schema.ts';
import type { PageRequest, SortSpec } from '../../lib/pagination.ts';
import type { Platform } from '../../platforms/platforms.ts';
import { policyLedList, policyPageIds, policyTotal } from './token-policy-list.repo.ts';
import { markShape, readDeepPage } from './token-page-marks.repo.ts';
import { stateSql } from './token-state.ts';

export type TokenRecord = typeof enrollmentTokens.$inferSelect;
export type NewTokenRecord = typeof enrollmentTokens.$inferInsert;

export interface EmailSummaryRow {
  status: string;
  attempts: number;
  sentAt: string | null;
  lastError: string | null;
}

/** A token with what its view shows from other tables, read in the same query. */
export interface TokenRow {
  token: TokenRecord;
  userEmail: string | null;
  email: EmailSummaryRow | null;
}

const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** The token, its user's email and its latest email's delivery: one query per page, not three. */
const viewColumns = {
  token: enrollmentTokens,
  userEmail: mdmUsers.email,
  email: sql<EmailSummaryRow | null>`(
    select json_build_object('status', o.status, 'attempts', o.attempts, 'lastError', o.last_error,
      'sentAt', to_char(o.sent_at at time zone 'UTC', ${sql.raw(ISO_MS)}))
    from email_outbox o
    where o.organization_id = ${enrollmentTokens.organizationId} and o.token_id = ${enrollmentTokens.id}
    order by o.created_at desc, o.id desc limit 1)`,
};

const userOfToken = and(eq(mdmUsers.id, enrollmentTokens.mdmUserId), eq(mdmUsers.organizationId, enrollmentTokens.organizationId));

export const TOKEN_SORT_FIELDS = ['createdAt', 'updatedAt', 'expireAt', 'displayName', 'state', 'type', 'subType', 'mdmUser.email'] as const;
export type TokenSortField = (typeof TOKEN_SORT_FIELDS)[number];

export interface TokenFilter {
  mdmUserId?: string | undefined;
  policyId?: string | undefined;
  showDeleted: boolean;
}

/**
 * List queries are built once per shape (filters present, sort) and database, so the SQL text
 * is not rebuilt per request. Unfiltered shapes are also named prepared statements, planned once
 * per connection. A policy filter's selectivity depends on its value, which a generic plan cannot
 * see (it may walk the whole date index): those shapes stay unnamed, planned for each value,
 * except the createdAt sort, which reads a range of the policy-led token_policies key whatever
 * the value (token-policy-list.repo.ts) and is named too.
 */
const preparedLists = new WeakMap<object, Map<string, ReturnType<typeof buildListStatements>>>();

/**
 * Page sizes written into the statement as literals. With `LIMIT $n` the generic plan has to
 * guess the page size (a tenth of the rows it expects), so it costs more than a custom plan and
 * PostgreSQL re-plans the unfiltered list at every request: about 0.5 ms, twice what the query
 * takes to run (the filtered shapes expect few rows, so their generic plan was kept). With the
 * size in the text the generic plan is the custom one, and is kept. Other sizes stay parameters:
 * the set bounds the prepared statements a connection holds.
 */
const LITERAL_LIMITS = new Set([10, 20, 25, 50, 100]);

function listStatements(db: Executor, filter: TokenFilter, sort: SortSpec<TokenSortField>, limit: number) {
  const literalLimit = LITERAL_LIMITS.has(limit) ? limit : undefined;
  const shape = [filter.showDeleted ? 'all' : 'live', filter.mdmUserId ? 'user' : '', filter.policyId ? 'policy' : '', sort.field, sort.direction, literalLimit ?? 'n'].join('_');
  let byShape = preparedLists.get(db);
  if (!byShape) preparedLists.set(db, (byShape = new Map()));
  let statements = byShape.get(shape);
  if (!statements) byShape.set(shape, (statements = buildListStatements(db, filter, sort, literalLimit, shape.replace(/\W/g, '_'))));
  return statements;
}

function buildListStatements(db: Executor, filter: TokenFilter, sort: SortSpec<TokenSortField>, literalLimit: number | undefined, name: string) {
  const p = sql.placeholder;
  const conditions: SQL[] = [eq(enrollmentTokens.organizationId, p('org')), eq(enrollmentTokens.platform, p('platform'))];
  if (!filter.showDeleted) conditions.push(ne(enrollmentTokens.state, 'DELETED'));
  if (filter.mdmUserId) conditions.push(eq(enrollmentTokens.mdmUserId, p('user')));
  if (filter.policyId) conditions.push(sql`${enrollmentTokens.policyIds} @> array[${p('policy')}]::text[]`);
  const where = and(...conditions);
  const dir = sort.direction === 'asc' ? asc : desc;
  const shown = stateSql(sql`${p('now')}::timestamptz`);
  // The state and updatedAt sorts are by what the token shows, which the clock changes.
  const orderColumn: Record<TokenSortField, SQL | AnyColumn> = {
    createdAt: enrollmentTokens.createdAt,
    updatedAt: shown.updatedAt,
    expireAt: enrollmentTokens.expireAt,
    displayName: enrollmentTokens.displayName,
    state: shown.effective,
    type: enrollmentTokens.type,
    subType: enrollmentTokens.subType,
    'mdmUser.email': mdmUsers.email,
  };
  const order = orderColumn[sort.field];
  // Drizzle binds a number as a parameter: the literal goes in as SQL (an integer from the set above).
  const limit = literalLimit === undefined ? p('limit') : (sql.raw(String(literalLimit)) as unknown as Placeholder);
  const byPolicyIndex = policyLedList(filter) && sort.field === 'createdAt';
  const idQuery = db.select({ pageId: enrollmentTokens.id }).from(enrollmentTokens);
  const pageIds = byPolicyIndex
    ? policyPageIds(db, filter.showDeleted, sort.direction, limit)
    : (sort.field === 'mdmUser.email' ? idQuery.innerJoin(mdmUsers, userOfToken) : idQuery)
        .where(where)
        .orderBy(dir(order), dir(enrollmentTokens.id))
        .limit(limit)
        .offset(p('offset'))
        .as('page_ids');
  const page = db
    .select(viewColumns)
    .from(enrollmentTokens)
    .innerJoin(pageIds, eq(pageIds.pageId, enrollmentTokens.id))
    .leftJoin(mdmUsers, userOfToken)
    .orderBy(dir(order), dir(enrollmentTokens.id));
  // Without a filter, or with a policy alone, the exact total comes from the trigger-kept counters, not from counting.
  const count = policyLedList(filter)
    ? policyTotal(db, filter.showDeleted)
    : filter.mdmUserId || filter.policyId
      ? db.select({ n: sql<string>`count(*)` }).from(enrollmentTokens).where(where)
      : db
          .select({ n: filter.showDeleted ? sql<string>`coalesce(sum(${tokenCounts.total}), 0)` : sql<string>`coalesce(sum(${tokenCounts.total} - ${tokenCounts.deleted}), 0)` })
          .from(tokenCounts)
          .where(and(eq(tokenCounts.organizationId, p('org')), eq(tokenCounts.platform, p('platform'))));
  if (filter.policyId && !byPolicyIndex) return { page, count };
  // The count does not depend on the page size: one statement for all sizes.
  return { page: page.prepare(`tokens_page_${name}`), count: count.prepare(`tokens_count_${name.replace(/_[^_]+$/, '')}`) };
}

export function createTokenRepo(db: Executor) {
  const scope = (organizationId: string, platform: Platform) =>
    and(eq(enrollmentTokens.organizationId, organizationId), eq(enrollmentTokens.platform, platform));

  return {
    /**
     * Inserts tokens, skipping rows that collide on a unique index (an enroll code already open
     * elsewhere); the caller gives those new codes and tries again. `dependents` are written by
     * the same statement, for the tokens it inserted.
     */
    async insertMany(organizationId: string, rows: NewTokenRecord[], dependents: readonly DependentRows[] = []): Promise<TokenRecord[]> {
      return insertRowsReturning(
        db,
        enrollmentTokens,
        rows.map((r) => ({ ...r, organizationId })),
        { onConflictDoNothing: true, dependents },
      );
    },

    /** The stored token alone: whether it exists, and its state. */
    async get(organizationId: string, platform: Platform, id: string): Promise<TokenRecord | undefined> {
      const [row] = await db.select().from(enrollmentTokens).where(and(scope(organizationId, platform), eq(enrollmentTokens.id, id))).limit(1);
      return row;
    },

    /**
     * One token with what its view shows. forUpdate locks the token's row to the end of the
     * transaction, so a change diffs from exactly what it replaces.
     */
    async findRow(organizationId: string, platform: Platform, id: string, options: { forUpdate?: boolean } = {}): Promise<TokenRow | undefined> {
      const query = db
        .select(viewColumns)
        .from(enrollmentTokens)
        .leftJoin(mdmUsers, userOfToken)
        .where(and(scope(organizationId, platform), eq(enrollmentTokens.id, id)))
        .limit(1);
      const [row] = options.forUpdate ? await query.for('update', { of: enrollmentTokens }) : await query;
      return row;
    },

    /**
     * One page in one query: a subquery takes the page's ids from an index (index-only for the
     * default and name sorts, so deep pages stay cheap), the outer query joins those rows with
     * what their views show. The total is exact: from the trigger-kept counters when no filter
     * narrows the list, else counted.
     */
    async list(
      organizationId: string,
      platform: Platform,
      filter: TokenFilter,
      sort: SortSpec<TokenSortField>,
      page: PageRequest,
      now: Date,
    ): Promise<{ items: TokenRow[]; total: number }> {
      const statements = listStatements(db, filter, sort, page.limit);
      const offset = (page.page - 1) * page.limit;
      // Deep pages of most sorts start from a recorded boundary key instead of walking the offset.
      const shape = markShape(filter, sort, offset);
      const values = {
        org: organizationId,
        platform,
        user: filter.mdmUserId ?? null,
        policy: filter.policyId ?? null,
        now: now.toISOString(),
        limit: page.limit,
        offset,
      };
      const pageRows = shape
        ? readDeepPage(db, { columns: viewColumns, userOfToken }, organizationId, platform, filter, sort, { shape, limit: page.limit, literalLimit: LITERAL_LIMITS.has(page.limit) ? page.limit : undefined, offset })
        : statements.page.execute(values);
      const [rows, counted] = await Promise.all([pageRows, statements.count.execute(values)]);
      return { items: rows as TokenRow[], total: Number(counted[0]?.n ?? 0) };
    },

    /**
     * Changes a token that can still enroll a device, or that enrolled one (DONE: its policies
     * keep applying to the device, so they may still change); undefined for an expired or
     * revoked token.
     */
    async updateEditable(organizationId: string, platform: Platform, id: string, set: Partial<NewTokenRecord>, now: Date): Promise<TokenRecord | undefined> {
      const [row] = await db
        .update(enrollmentTokens)
        .set({ ...set, updatedAt: now })
        .where(and(scope(organizationId, platform), eq(enrollmentTokens.id, id), or(stateSql(now).open, eq(enrollmentTokens.state, 'DONE'))))
        .returning();
      return row;
    },

    /** Marks a token DELETED unless it already is; undefined when nothing changed. */
    async revoke(organizationId: string, platform: Platform, id: string, now: Date): Promise<TokenRecord | undefined> {
      const [row] = await db
        .update(enrollmentTokens)
        .set({ state: 'DELETED', updatedAt: now })
        .where(and(scope(organizationId, platform), eq(enrollmentTokens.id, id), ne(enrollmentTokens.state, 'DELETED')))
        .returning();
      return row;
    },

    /**
     * The single-use step: one conditional UPDATE binds the device only to a PENDING, unexpired
     * token of that platform, so of many concurrent redeems exactly one gets a row back.
     */
    async redeem(organizationId: string, platform: Platform, id: string, deviceId: string, now: Date): Promise<TokenRecord | undefined> {
      const [row] = await db
        .update(enrollmentTokens)
        .set({ state: 'DONE', deviceId, doneAt: now, updatedAt: now })
        .where(and(scope(organizationId, platform), eq(enrollmentTokens.id, id), stateSql(now).open))
        .returning();
      return row;
    },

    /** Open tokens of the organization on both platforms: what the plan's cap limits. */
    async countOpen(organizationId: string, now: Date): Promise<number> {
      return db.$count(enrollmentTokens, and(eq(enrollmentTokens.organizationId, organizationId), stateSql(now).open));
    },

    /** Serializes the creates of one organization while a capped plan is checked. */
    async lockOrganization(organizationId: string): Promise<void> {
      await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, organizationId)).for('update');
    },

  };
}

/**
 * The token behind an enrollment link. The link's secret is the credential, so this is the one
 * token lookup that is not scoped by organization: the organization comes from the row.
 */
export async function findTokenByLinkSecret(db: Executor, linkSecret: string): Promise<TokenRecord | undefined> {
  const [row] = await db.select().from(enrollmentTokens).where(eq(enrollmentTokens.linkSecret, linkSecret)).limit(1);
  return row;
}

export type RecipientKey = { organizationId: string; tokenId: string } | { linkSecret: string };

/**
 * A token with its organization's name, for the one who receives it: by id for the email, by
 * link secret for the enrollment page. The secret is the credential, so that lookup is not
 * scoped by organization: the organization comes from the row.
 */
export async function findTokenForRecipient(db: Executor, key: RecipientKey): Promise<{ token: TokenRecord; organizationName: string } | undefined> {
  const where =
    'linkSecret' in key
      ? eq(enrollmentTokens.linkSecret, key.linkSecret)
      : and(eq(enrollmentTokens.organizationId, key.organizationId), eq(enrollmentTokens.id, key.tokenId));
  const [row] = await db
    .select({ token: enrollmentTokens, organizationName: organizations.name })
    .from(enrollmentTokens)
    .innerJoin(organizations, eq(organizations.id, enrollmentTokens.organizationId))
    .where(where)
    .limit(1);
  return row;
}

/**
 * Stores EXPIRED on PENDING tokens whose expireAt has passed, across organizations, a batch at
 * a time. updatedAt becomes expireAt: the instant the token started reading as EXPIRED.
 */
export async function sweepExpiredTokens(db: Executor, now: Date, batch: number): Promise<Array<{ id: string; organizationId: string; expireAt: Date }>> {
  const due = db
    .select({ id: enrollmentTokens.id })
    .from(enrollmentTokens)
    .where(stateSql(now).expiredUnswept)
    .limit(batch)
    .for('update', { skipLocked: true });
  return db
    .update(enrollmentTokens)
    .set({ state: 'EXPIRED', updatedAt: sql`${enrollmentTokens.expireAt}` })
    .where(and(inArray(enrollmentTokens.id, due), stateSql(now).expiredUnswept))
    .returning({ id: enrollmentTokens.id, organizationId: enrollmentTokens.organizationId, expireAt: enrollmentTokens.expireAt });
}
