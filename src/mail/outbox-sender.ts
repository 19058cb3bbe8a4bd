import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import { renderEnrollmentEmail } from './enrollment-email.ts';
import type { Mailer } from './mailer.ts';
import { claimDueMessages, finishMessage, type OutboxRecord } from './outbox.repo.ts';
import type { ReadRecipientToken, RecordDelivery } from './recipient-token.ts';

export interface OutboxSenderOptions {
  database: Database;
  clock: Clock;
  mailer: Mailer;
  log: Pick<FastifyBaseLogger, 'warn' | 'error' | 'info'>;
  /** The token module's face for mail, handed in by container.ts. */
  tokens: { read: ReadRecipientToken; recordDelivery: RecordDelivery };
  maxAttempts: number;
  retryBaseMs: number;
  batch?: number;
  /** How long a claimed message stays with this sender before another may retry it. */
  leaseMs?: number;
  /** Sends in flight at once. */
  concurrency?: number;
}

export interface DeliveryReport {
  sent: number;
  retried: number;
  failed: number;
  cancelled: number;
}

const MAX_RETRY_DELAY_MS = 3_600_000;

/** Exponential backoff: base, 2×base, 4×base, ... capped at an hour. */
export function retryDelay(attempts: number, baseMs: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** Message ids are fixed per outbox row: a resend after a crash carries the same id. */
export function messageIdFor(outboxId: string): string {
  return `<${outboxId}@openroll>`;
}

/** SMTP errors can be long and multi-line; the token shows a short, single-line form. */
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Delivers the outbox after commit: claims due messages, renders each from its token at send
 * time (a revoked or expired token's message is cancelled instead), and records every outcome
 * on the message and in the token's audit trail.
 */
export function createOutboxSender(options: OutboxSenderOptions) {
  const { database, clock, mailer, log } = options;
  const db = database.db;
  const batch = options.batch ?? 50;
  const leaseMs = options.leaseMs ?? 120_000;
  const concurrency = options.concurrency ?? 5;

  async function deliver(message: OutboxRecord, report: DeliveryReport): Promise<void> {
    const org = message.organizationId;
    const record = options.tokens.recordDelivery;
    const token = await options.tokens.read({ organizationId: org, tokenId: message.tokenId });
    const state = token?.state ?? 'DELETED';
    if (!token || state !== 'PENDING') {
      const now = clock.now();
      await finishMessage(db, org, message.id, { status: 'cancelled', lastError: `token is ${state}`, updatedAt: now });
      await record(org, { tokenId: message.tokenId, type: 'email.cancelled', at: now, changes: { emailId: message.id, state } });
      report.cancelled++;
      return;
    }
    const rendered = renderEnrollmentEmail({
      language: token.language,
      platform: token.platform,
      organizationName: token.organizationName,
      displayName: token.displayName,
      recipient: message.recipient,
      link: token.link,
      code: token.enrollCode,
      expireAt: token.expireAt,
      emailText: token.emailText,
    });
    const messageId = messageIdFor(message.id);
    try {
      await mailer.send({ messageId, organizationId: org, outboxId: message.id, to: message.recipient, ...rendered });
    } catch (error) {
      const lastError = describe(error);
      const done = clock.now();
      if (message.attempts >= options.maxAttempts) {
        await finishMessage(db, org, message.id, { status: 'failed', lastError, updatedAt: done });
        await record(org, { tokenId: token.tokenId, type: 'email.failed', at: done, changes: { emailId: message.id, attempts: message.attempts, error: lastError } });
        report.failed++;
      } else {
        const nextAttemptAt = new Date(done.getTime() + retryDelay(message.attempts, options.retryBaseMs));
        await finishMessage(db, org, message.id, { lastError, nextAttemptAt, updatedAt: done });
        report.retried++;
      }
      log.warn({ emailId: message.id, attempts: message.attempts, error: lastError }, 'email delivery failed');
      return;
    }
    const sentAt = clock.now();
    await finishMessage(db, org, message.id, { status: 'sent', sentAt, messageId, lastError: null, updatedAt: sentAt });
    await record(org, { tokenId: token.tokenId, type: 'email.sent', at: sentAt, changes: { emailId: message.id, attempts: message.attempts } });
    report.sent++;
  }

  /** One pass over the due messages; returns what happened, and how many were claimed. */
  async function runOnce(): Promise<DeliveryReport & { claimed: number }> {
    const claimed = await db.transaction((tx) => claimDueMessages(tx, clock.now(), batch, leaseMs));
    const report: DeliveryReport = { sent: 0, retried: 0, failed: 0, cancelled: 0 };
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const message = claimed[next++]!;
        // A failure here (the database went away) leaves the message leased: it is retried later.
        await deliver(message, report).catch((error: unknown) => log.error({ err: error, emailId: message.id }, 'email bookkeeping failed'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker));
    return { ...report, claimed: claimed.length };
  }

  let running: Promise<void> | undefined;
  let stopped = true;
  let wakeUp: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function loop(pollMs: number): Promise<void> {
    while (!stopped) {
      let claimed = 0;
      try {
        claimed = (await runOnce()).claimed;
      } catch (error) {
        log.warn({ err: error }, 'email outbox pass failed');
      }
      if (stopped) break;
      if (claimed >= batch) continue;
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        timer = setTimeout(resolve, pollMs);
      });
      clearTimeout(timer);
      wakeUp = undefined;
    }
  }

  return {
    runOnce,
    /** Starts delivering in the background; new messages are picked up on wake() or within pollMs. */
    start(pollMs = 1_000): void {
      if (!stopped) return;
      stopped = false;
      running = loop(pollMs);
    },
    /** Called after a transaction that queued messages commits. */
    wake(): void {
      wakeUp?.();
    },
    async stop(): Promise<void> {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}

export type OutboxSender = ReturnType<typeof createOutboxSender>;
