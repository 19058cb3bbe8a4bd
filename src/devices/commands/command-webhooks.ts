import type { Executor } from '../../db/client.ts';
import { newId } from '../../lib/ids.ts';
import type { EndpointLookup } from '../../webhooks/endpoint-cache.ts';
import type { DeviceCommandEventType, DeviceCommandWebhookPayload } from '../../webhooks/webhook-events.ts';
import { enabledEndpoints, insertDeliveries, type NewWebhookDelivery } from '../../webhooks/webhooks.repo.ts';
import type { DeviceCommandRecord } from './device-command.ts';
import type { DeviceCommandView } from './device-commands.schemas.ts';
import { toDeviceCommandView } from './device-commands.views.ts';

/** Which end of a command is which event; a command queued again (NotNow, a lost answer) is none. */
const EVENT_OF: Readonly<Record<string, DeviceCommandEventType>> = {
  acknowledged: 'device.command.acknowledged',
  error: 'device.command.failed',
};

export type DeviceCommandPayload = DeviceCommandWebhookPayload<DeviceCommandView>;

export function toCommandPayload(type: DeviceCommandEventType, organizationId: string, command: DeviceCommandRecord, tokenId: string): DeviceCommandPayload {
  return {
    type,
    timestamp: (command.completedAt ?? command.updatedAt).toISOString(),
    data: { organizationId, platform: command.platform, deviceId: command.deviceId, tokenId, command: toDeviceCommandView(command) },
  };
}

/**
 * Queues the webhook deliveries of commands a device's answer completed, in the caller's
 * transaction (the one that completed them: a rolled-back report has none). `tokenOf` names the
 * token each device enrolled with, for a command that has no token of its own as its source;
 * the delivery is chained on that token, so one device's events reach an endpoint in order.
 * An organization without an endpoint that wants them costs one endpoint lookup (none cached).
 */
export async function enqueueCommandEvents(
  db: Executor,
  organizationId: string,
  completed: readonly DeviceCommandRecord[],
  tokenOf: (deviceId: string) => Promise<string | undefined>,
  endpointsOf: EndpointLookup = enabledEndpoints,
): Promise<void> {
  const ended = completed.flatMap((command) => (EVENT_OF[command.status] ? [{ command, type: EVENT_OF[command.status]! }] : []));
  if (ended.length === 0) return;
  const endpoints = await endpointsOf(db, organizationId);
  if (!endpoints.some((e) => ended.some(({ type }) => e.events.includes(type)))) return;
  const rows: NewWebhookDelivery[] = [];
  for (const { command, type } of ended) {
    const to = endpoints.filter((e) => e.events.includes(type));
    if (to.length === 0) continue;
    const tokenId = command.sourceTokenId ?? (await tokenOf(command.deviceId));
    if (!tokenId) continue;
    const payload = toCommandPayload(type, organizationId, command, tokenId);
    const at = command.completedAt ?? command.updatedAt;
    const body = JSON.stringify(payload);
    for (const endpoint of to) {
      rows.push({ organizationId, id: newId(), endpointId: endpoint.id, tokenId, eventType: type, payload: body, status: 'pending', attempts: 0, nextAttemptAt: at, createdAt: at, updatedAt: at });
    }
  }
  await insertDeliveries(db, rows);
}
