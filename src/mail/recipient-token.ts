import type { DependentRows } from '../db/bulk-insert.ts';
import type { Executor } from '../db/client.ts';
import type { TokenState } from '../db/schema.ts';
import type { Language } from '../lib/languages.ts';
import type { Platform } from '../platforms/platforms.ts';

/**
 * An enrollment token as the person it was issued to sees it: what the email and the
 * enrollment page show. The token module answers it; container.ts hands its read to the outbox
 * sender and to the page, so neither imports the module.
 */
export interface RecipientToken {
  organizationId: string;
  organizationName: string;
  tokenId: string;
  platform: Platform;
  /** At the instant of reading: PENDING past expireAt already reads as EXPIRED. */
  state: TokenState;
  language: Language;
  /** May be ''. */
  displayName: string;
  /** The admin's own words; may be ''. */
  emailText: string;
  enrollCode: string;
  expireAt: Date;
  /** The enrollment link, with its secret. */
  link: string;
}

/** By id (the email's outbox row knows it) or by link secret (the page's URL holds it). */
export type RecipientTokenKey = { organizationId: string; tokenId: string } | { linkSecret: string };

export type ReadRecipientToken = (key: RecipientTokenKey) => Promise<RecipientToken | undefined>;

/** A delivery outcome, for the token's audit trail. */
export interface DeliveryEvent {
  tokenId: string;
  type: 'email.sent' | 'email.failed' | 'email.cancelled';
  at: Date;
  changes: Record<string, unknown>;
}

/**
 * The rows a delivery outcome adds to the token's trail (its audit event, its webhook
 * deliveries), written by the statement that settles the message, so neither is lost alone.
 */
export type DeliveryRows = (event: DeliveryEvent) => DependentRows[];

/**
 * Reads, before a send, what the outcome's rows need (which endpoints want the event, the
 * token as its webhook shows it), so that after the SMTP server's answer the settlement is one
 * statement: the window in which a crash sends a message twice is that one packet.
 */
export type PrepareDelivery = (db: Executor, organizationId: string, tokenId: string) => Promise<DeliveryRows>;
