import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { appleScepChallenges, enrollmentTokens } from '../db/schema.ts';
import { stateSql } from '../modules/enrollment-tokens/token-state.ts';

export type ScepChallengeRecord = typeof appleScepChallenges.$inferSelect;

export function createScepChallengesRepo(db: Executor) {
  return {
    /**
     * The token's one unspent challenge becomes this one: one statement on the partial unique
     * index (organization, token) of unspent rows, so two downloads at once leave one challenge,
     * the later, and the earlier profile's challenge no longer exists.
     */
    async replaceUnspent(organizationId: string, row: Omit<ScepChallengeRecord, 'organizationId' | 'spentAt'>): Promise<void> {
      await db
        .insert(appleScepChallenges)
        .values({ ...row, organizationId, spentAt: null })
        .onConflictDoUpdate({
          target: [appleScepChallenges.organizationId, appleScepChallenges.tokenId],
          targetWhere: sql`spent_at is null`,
          set: { id: row.id, challengeHash: row.challengeHash, expiresAt: row.expiresAt, createdAt: row.createdAt },
        });
    },

    /**
     * Spends an unspent, unexpired challenge: one conditional UPDATE, so of two requests with
     * the same challenge exactly one gets the row back.
     */
    async spend(organizationId: string, challengeHash: Buffer, now: Date): Promise<ScepChallengeRecord | undefined> {
      const [row] = await db
        .update(appleScepChallenges)
        .set({ spentAt: now })
        .where(
          and(
            eq(appleScepChallenges.organizationId, organizationId),
            eq(appleScepChallenges.challengeHash, challengeHash),
            isNull(appleScepChallenges.spentAt),
            gt(appleScepChallenges.expiresAt, now),
          ),
        )
        .returning();
      return row;
    },

    /**
     * Whether the challenge's token can still enroll (PENDING and unexpired: the rule of
     * token-state.ts, read in the SCEP transaction so a revoke that commits first wins).
     */
    async tokenIsOpen(organizationId: string, tokenId: string, now: Date): Promise<boolean> {
      const [row] = await db
        .select({ id: enrollmentTokens.id })
        .from(enrollmentTokens)
        .where(and(eq(enrollmentTokens.organizationId, organizationId), eq(enrollmentTokens.id, tokenId), stateSql(now).open));
      return row !== undefined;
    },
  };
}
