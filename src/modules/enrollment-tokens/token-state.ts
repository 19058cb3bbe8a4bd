import { and, gt, lte, sql, type SQL } from 'drizzle-orm';
import { enrollmentTokens, type TokenState } from '../../db/schema.ts';

export { TOKEN_STATES, type TokenState } from '../../db/schema.ts';

/**
 * The one rule of a token's state, written twice: once for code, once for SQL. A PENDING token
 * reads as EXPIRED from the instant expireAt passes, whether or not the sweep has stored it yet
 * (CONTRACT.md section 4, States). test/modules/enrollment-tokens/token-state.test.ts holds the
 * two to the same answer on each side of that instant.
 */
export function effectiveState(stored: TokenState, expireAt: Date, now: Date): TokenState {
  if (stored === 'PENDING' && expireAt.getTime() <= now.getTime()) return 'EXPIRED';
  return stored;
}

/**
 * The updatedAt a reader sees: a token that expired unswept reads as if the sweep had run at
 * expireAt, which is what the sweep then stores (token.repo.ts sweepExpiredTokens).
 */
export function shownUpdatedAt(stored: TokenState, updatedAt: Date, expireAt: Date, now: Date): Date {
  return stored !== effectiveState(stored, expireAt, now) ? expireAt : updatedAt;
}

/** Stored PENDING, expired or not: what the partial indexes on state = 'PENDING' cover. */
export const storedPending = sql`${enrollmentTokens.state} = 'PENDING'`;

/**
 * The rule in SQL at the instant `now` (a date, or a prepared statement's placeholder). Every
 * query that asks about a token's state builds it from here. `'PENDING'` is a literal, not a
 * parameter, so generic plans still see the partial indexes on state = 'PENDING'.
 */
export function stateSql(now: Date | SQL) {
  const expiredUnswept = and(storedPending, lte(enrollmentTokens.expireAt, now))!;
  return {
    /** The state as a reader sees it: what the list sorts by. */
    effective: sql<TokenState>`(case when ${expiredUnswept} then 'EXPIRED' else ${enrollmentTokens.state} end)`,
    /** updatedAt as a reader sees it (shownUpdatedAt): what the list sorts by. */
    updatedAt: sql<Date>`(case when ${expiredUnswept} then ${enrollmentTokens.expireAt} else ${enrollmentTokens.updatedAt} end)`,
    /** PENDING and not yet expired: can still enroll a device, and counts against the plan's cap. */
    open: and(storedPending, gt(enrollmentTokens.expireAt, now))!,
    /** Stored PENDING but past expireAt: what the sweep stores as EXPIRED. */
    expiredUnswept,
  };
}
