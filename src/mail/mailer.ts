import nodemailer from 'nodemailer';
import type { Database } from '../db/client.ts';
import { capturedEmails } from '../db/schema.ts';
import { newId } from '../lib/ids.ts';

export interface OutgoingMessage {
  /** Fixed per outbox row, so a message sent twice after a crash can be recognised as one. */
  messageId: string;
  organizationId: string;
  outboxId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The boundary to the mail system: SMTP in production, captured in the database otherwise. */
export interface Mailer {
  kind: 'smtp' | 'capture';
  description: string;
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

/** `connections`: sessions kept open to the SMTP server, as many as the outbox sends at once (MAIL_CONCURRENCY). */
export function createSmtpMailer(smtpUrl: string, from: string, connections = 5): Mailer {
  // A session per message capped a bulk at `connections` / (connect + greeting): servers
  // that pause before greeting (postscreen, smtp-server's early-talker check) held 10,000
  // emails to ~40 a second. Pooled sessions are reused, and closed once idle for a moment.
  const transport = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: connections, idleTimeout: 1_000 });
  const target = new URL(smtpUrl);
  return {
    kind: 'smtp',
    description: `SMTP at ${target.hostname}:${target.port || (target.protocol === 'smtps:' ? '465' : '587')}`,
    async send(m) {
      await transport.sendMail({ from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId });
    },
    close: () => transport.close(),
  };
}

/** Builds the real message with nodemailer and keeps it in `captured_emails`. */
export function createCaptureMailer(database: Database, from: string, now: () => Date): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'capture',
    description: 'captured in the database (no SMTP_URL): see `openroll mail list`',
    async send(m) {
      const info = await transport.sendMail({ from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId });
      const raw = Buffer.isBuffer(info.message) ? info.message.toString('utf8') : String(info.message);
      await database.db
        .insert(capturedEmails)
        .values({ id: newId(), organizationId: m.organizationId, outboxId: m.outboxId, messageId: m.messageId, recipient: m.to, subject: m.subject, raw, createdAt: now() });
    },
    close: () => transport.close(),
  };
}
