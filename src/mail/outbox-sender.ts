import type { Executor } from '../db/client.ts';
import { createOutboxWorker, senderFace, type SenderSettings, type Settlement, type WorkerReport } from '../outbox/outbox-worker.ts';
import { renderEnrollmentEmail } from './enrollment-email.ts';
import type { Mailer } from './mailer.ts';
import { emailQueue, settleMessage, type OutboxRecord } from './outbox.repo.ts';
import type { DeliveryEvent, DeliveryRows, PrepareDelivery, ReadRecipientToken } from './recipient-token.ts';

export interface OutboxSenderOptions extends SenderSettings {
  mailer: Mailer;
  /** The token module's face for mail, handed in by container.ts. */
  tokens: { read: ReadRecipientToken; prepareDelivery: PrepareDelivery };
}

/** `sent` is the worker's `done`; `lost`: messages another sender took over (not sent by this one, or sent by both). */
export type DeliveryReport = Omit<WorkerReport, 'done'> & { sent: number };

/** Message ids are fixed per outbox row: a resend after a crash carries the same id. */
export function messageIdFor(outboxId: string): string {
  return `<${outboxId}@openroll>`;
}

/** SMTP errors can be long and multi-line; the token shows a short, single-line form. */
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/** What an attempt leaves for the trail: its rows' builder, and the token's state when its message is cancelled. */
interface MailDetail {
  rows?: DeliveryRows;
  state?: string;
}

/**
 * Delivers the outbox after commit through the shared worker (src/outbox/): renders each message
 * from its token at send time (a revoked or expired token's message is cancelled instead), and
 * records every outcome on the message and in the token's audit trail in one statement: what
 * the trail needs is read before the send, so that between the SMTP server's acceptance and the
 * mark there is one packet, the window in which a crash sends a message twice (issue 27).
 */
export function createOutboxSender(options: OutboxSenderOptions) {
  const { mailer, log } = options;
  const prepare = (db: Executor, message: OutboxRecord) => options.tokens.prepareDelivery(db, message.organizationId, message.tokenId);
  const trailEvent = (message: OutboxRecord, s: Settlement<MailDetail>): DeliveryEvent | undefined => {
    const emailId = message.id;
    const tokenId = message.tokenId;
    if (s.state === 'done') return { tokenId, type: 'email.sent', at: s.at, changes: { emailId, attempts: message.attempts } };
    if (s.state === 'failed') return { tokenId, type: 'email.failed', at: s.at, changes: { emailId, attempts: message.attempts, error: s.error } };
    if (s.state === 'cancelled') return { tokenId, type: 'email.cancelled', at: s.at, changes: { emailId, state: s.detail.state } };
    return undefined;
  };

  async function settle(db: Executor, message: OutboxRecord, held: Parameters<typeof settleMessage>[1], s: Settlement<MailDetail>): Promise<boolean> {
    const set =
      s.state === 'done'
        ? { status: 'sent', sentAt: s.at, messageId: messageIdFor(message.id), lastError: null, updatedAt: s.at }
        : s.state === 'retry'
          ? { lastError: s.error, nextAttemptAt: s.nextAttemptAt, updatedAt: s.at }
          : { status: s.state, lastError: s.error, updatedAt: s.at };
    const event = trailEvent(message, s);
    // The message's outcome and its trail event are written together, or neither is (issue 21).
    const rows = event ? (s.detail.rows ?? (await prepare(db, message)))(event) : [];
    const settled = await settleMessage(db, held, set, rows);
    if (settled && (s.state === 'retry' || s.state === 'failed')) log.warn({ emailId: message.id, attempts: message.attempts, error: s.error }, 'email delivery failed');
    return settled;
  }

  const worker = createOutboxWorker<OutboxRecord, MailDetail>({
    ...options,
    name: 'email',
    queue: emailQueue,
    async attempt(message, stillHeld) {
      const org = message.organizationId;
      const token = await options.tokens.read({ organizationId: org, tokenId: message.tokenId });
      const state = token?.state ?? 'DELETED';
      const rows = await prepare(options.database.db, message);
      if (!token || state !== 'PENDING') return { ok: false, cancel: true, error: `token is ${state}`, detail: { rows, state } };
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
      if (!(await stillHeld())) return 'lost';
      try {
        await mailer.send({ messageId: messageIdFor(message.id), organizationId: org, outboxId: message.id, to: message.recipient, ...rendered });
      } catch (error) {
        return { ok: false, error: describe(error), detail: { rows } };
      }
      return { ok: true, detail: { rows } };
    },
    settle,
  });

  return senderFace(worker, ({ done, ...rest }): DeliveryReport => ({ ...rest, sent: done }));
}

export type OutboxSender = ReturnType<typeof createOutboxSender>;
