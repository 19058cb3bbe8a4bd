import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks (standardwebhooks.com) signing through its reference implementation, so
 * receivers can verify with any of the spec's libraries: the secret is `whsec_` + base64 of
 * random bytes, and `webhook-signature` is `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`.
 */
export const SECRET_PREFIX = 'whsec_';

/** 32 random bytes: the HMAC-SHA256 key size. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three headers of one delivery attempt; the timestamp is the attempt's, in seconds. */
export function signedHeaders(secret: string, messageId: string, at: Date, body: string): SignedHeaders {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, body),
  };
}
