import { and, desc, eq, gte, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { emailOutbox } from '../db/schema.ts';
import { AppError } from '../errors.ts';

export interface EmailLimitsConfig {
  /** Seconds after a token's last email before `send-email` may queue another; 0: none. */
  resendCooldownSeconds: number;
  /** Emails an organization may queue per UTC day, creates and resends together; 0: no cap. */
  dailyCapPerOrganization: number;
}

const DAY_MS = 86_400_000;

const tooMany = (retryAfterMs: number, data: Record<string, unknown>) =>
  new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }, data });

/**
 * Limits on enrollment emails, counted from the outbox rows themselves: the token's last queued
 * message (its cooldown) and the organization's messages of the UTC day (its cap). They are read
 * in the transaction that queues the next ones, under transaction-scoped advisory locks (one per
 * token, one per organization), so processes on one database cannot both pass the same limit.
 * Each check throws 429 4029 with Retry-After.
 */
export function createEmailLimits(config: EmailLimitsConfig) {
  const enabled = config.resendCooldownSeconds > 0 || config.dailyCapPerOrganization > 0;

  /** Queued emails of one organization wait for each other until their transaction ends. */
  async function lockOrganization(tx: Executor, organizationId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`openroll.email:${organizationId}`}, 0))`);
  }

  /**
   * Claims the token's email until the transaction ends; false when another transaction is
   * queuing one for it right now, which the cooldown would refuse a moment later anyway (so
   * a burst of resends is answered at once instead of queuing on a lock).
   */
  async function claimToken(tx: Executor, organizationId: string, tokenId: string): Promise<boolean> {
    const result = (await tx.execute(
      sql`select pg_try_advisory_xact_lock(hashtextextended(${`openroll.email-token:${organizationId}:${tokenId}`}, 0)) as claimed`,
    )) as unknown as { rows: Array<{ claimed: boolean | string }> };
    const claimed = result.rows[0]?.claimed;
    return claimed === true || claimed === 't';
  }

  async function checkDailyCap(tx: Executor, organizationId: string, count: number, now: Date): Promise<void> {
    const cap = config.dailyCapPerOrganization;
    if (cap === 0) return;
    const dayStart = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
    const used = await tx.$count(emailOutbox, and(eq(emailOutbox.organizationId, organizationId), gte(emailOutbox.createdAt, dayStart)));
    if (used + count > cap) {
      throw tooMany(dayStart.getTime() + DAY_MS - now.getTime(), { reason: 'daily-email-cap', limit: cap, used, requested: count });
    }
  }

  return {
    /** Before queuing `count` emails of new tokens, in the transaction that queues them. */
    async beforeQueue(tx: Executor, organizationId: string, count: number, now: Date): Promise<void> {
      if (config.dailyCapPerOrganization === 0 || count === 0) return;
      await lockOrganization(tx, organizationId);
      await checkDailyCap(tx, organizationId, count, now);
    },

    /** Before `send-email` queues one more email for a token, in the transaction that queues it. */
    async beforeResend(tx: Executor, organizationId: string, tokenId: string, now: Date): Promise<void> {
      if (!enabled) return;
      const cooldownMs = config.resendCooldownSeconds * 1000;
      if (cooldownMs > 0) {
        if (!(await claimToken(tx, organizationId, tokenId))) {
          throw tooMany(cooldownMs, { reason: 'email-cooldown', cooldownSeconds: config.resendCooldownSeconds });
        }
        const [last] = await tx
          .select({ createdAt: emailOutbox.createdAt })
          .from(emailOutbox)
          .where(and(eq(emailOutbox.organizationId, organizationId), eq(emailOutbox.tokenId, tokenId)))
          .orderBy(desc(emailOutbox.createdAt))
          .limit(1);
        const wait = last ? last.createdAt.getTime() + cooldownMs - now.getTime() : 0;
        if (wait > 0) throw tooMany(wait, { reason: 'email-cooldown', cooldownSeconds: config.resendCooldownSeconds });
      }
      if (config.dailyCapPerOrganization === 0) return;
      await lockOrganization(tx, organizationId);
      await checkDailyCap(tx, organizationId, 1, now);
    },
  };
}

export type EmailLimits = ReturnType<typeof createEmailLimits>;
