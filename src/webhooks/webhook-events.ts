/**
 * The webhook events and their body: the contract (README, "Webhooks"). Which token changes
 * they come from, and their deliveries, are the token module's (token-webhooks.ts): this
 * folder stores, signs and delivers them, and knows nothing of tokens.
 */

export const WEBHOOK_EVENT_TYPES = [
  'enrollmentToken.created',
  'enrollmentToken.emailSent',
  'enrollmentToken.emailFailed',
  'enrollmentToken.revoked',
  'enrollmentToken.expired',
  'enrollmentToken.redeemed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The body of every webhook (README, "Webhooks"): Standard Webhooks' `{type, timestamp, data}`.
 * `data.state` is the token's state once the event happened; `email` is set on the two email
 * events; `deviceId` once a device redeemed the token.
 */
export interface WebhookPayload {
  type: WebhookEventType;
  timestamp: string;
  data: {
    organizationId: string;
    platform: string;
    tokenId: string;
    state: string;
    mdmUser: { id: string; email: string | null };
    displayName: string;
    tags: string[];
    expireAt: string;
    deviceId: string | null;
    /** The API key that made the change; null for the system (expiry, a device, the mail sender). */
    actorKeyId: string | null;
    email?: { id: string | null; attempts: number | null; error?: string };
  };
}
