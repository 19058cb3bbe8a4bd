/**
 * The webhook events and their body: the contract (README, "Webhooks"). Which token changes
 * they come from, and their deliveries, are the token module's (token-webhooks.ts); which
 * command ends, the devices' (devices/commands/command-webhooks.ts): this folder stores, signs
 * and delivers them, and knows nothing of tokens or devices beyond these names and shapes.
 */

export const TOKEN_WEBHOOK_EVENT_TYPES = [
  'enrollmentToken.created',
  'enrollmentToken.emailSent',
  'enrollmentToken.emailFailed',
  'enrollmentToken.revoked',
  'enrollmentToken.expired',
  'enrollmentToken.redeemed',
] as const;
/** A device answered a command: acknowledged, or an error (CONTRACT.md section 6, "with the command"). */
export const DEVICE_COMMAND_EVENT_TYPES = ['device.command.acknowledged', 'device.command.failed'] as const;
export const WEBHOOK_EVENT_TYPES = [...TOKEN_WEBHOOK_EVENT_TYPES, ...DEVICE_COMMAND_EVENT_TYPES] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export type TokenWebhookEventType = (typeof TOKEN_WEBHOOK_EVENT_TYPES)[number];
export type DeviceCommandEventType = (typeof DEVICE_COMMAND_EVENT_TYPES)[number];

/**
 * The body of the token events (README, "Webhooks"): Standard Webhooks' `{type, timestamp, data}`.
 * `data.state` is the token's state once the event happened; `email` is set on the two email
 * events; `deviceId` once a device redeemed the token.
 */
export interface WebhookPayload {
  type: TokenWebhookEventType;
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

/**
 * The body of the two command events: the device, the token it enrolled with, and the command
 * as the API's command list shows it (`Command`: the devices' view type, so this folder needs
 * nothing of it but that it is an object).
 */
export interface DeviceCommandWebhookPayload<Command extends object = Record<string, unknown>> {
  type: DeviceCommandEventType;
  timestamp: string;
  data: {
    organizationId: string;
    platform: string;
    deviceId: string;
    tokenId: string;
    command: Command;
  };
}
