import { and, asc, desc, eq, sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { tokenPolicies, tokenPolicyCounts } from '../../db/schema.ts';

/**
 * The policy filter's side of the token list, over token_policies and its counters
 * (migrations/0014, kept by triggers in the transaction of every change to a token). Without
 * them a policy-filtered page sorted and counted every token carrying the policy on each request.
 *
 * Used when the policy is the only narrowing filter: with an MDM user too, that user's few
 * tokens are cheaper to read and count from the user index.
 */
export function policyLedList(filter: { mdmUserId?: string | undefined; policyId?: string | undefined }): boolean {
  return filter.policyId !== undefined && !filter.mdmUserId;
}

const p = sql.placeholder;

const policyRange = (showDeleted: boolean) =>
  and(
    eq(tokenPolicies.organizationId, p('org')),
    eq(tokenPolicies.platform, p('platform')),
    eq(tokenPolicies.policyId, p('policy')),
    ...(showDeleted ? [] : [eq(tokenPolicies.deleted, false)]),
  );

/**
 * The page's token ids for the createdAt sort (ties by id, as the list's own order): a range of
 * token_policies' primary key, read forward or backward, with `deleted` from the key's INCLUDE.
 * Since the key leads with the policy, the plan does not depend on how many tokens carry it:
 * the statement can be named and planned once, like the unfiltered list's.
 */
export function policyPageIds(db: Executor, showDeleted: boolean, direction: 'asc' | 'desc', limit: Placeholder | SQL) {
  const dir = direction === 'asc' ? asc : desc;
  return db
    .select({ pageId: tokenPolicies.tokenId })
    .from(tokenPolicies)
    .where(policyRange(showDeleted))
    .orderBy(dir(tokenPolicies.createdAt), dir(tokenPolicies.tokenId))
    .limit(limit as Placeholder)
    .offset(p('offset'))
    .as('page_ids');
}

/** The exact total of a policy filter: the sum of the policy's counter shards, not a count. */
export function policyTotal(db: Executor, showDeleted: boolean) {
  const n = showDeleted ? sql<string>`coalesce(sum(${tokenPolicyCounts.total}), 0)` : sql<string>`coalesce(sum(${tokenPolicyCounts.total} - ${tokenPolicyCounts.deleted}), 0)`;
  return db
    .select({ n })
    .from(tokenPolicyCounts)
    .where(and(eq(tokenPolicyCounts.organizationId, p('org')), eq(tokenPolicyCounts.platform, p('platform')), eq(tokenPolicyCounts.policyId, p('policy'))));
}
