import type { CommandResult, DeviceCommandRecord } from './device-command.ts';
import type { DeviceCommandView } from './device-commands.schemas.ts';

/** A queue row -> the API's command item; the protocol's bookkeeping (payload, CmdID, ...) stays inside. */
export function toDeviceCommandView(row: DeviceCommandRecord): DeviceCommandView {
  const result = row.result as CommandResult | null;
  return {
    id: row.id,
    deviceId: row.deviceId,
    type: row.type,
    target: row.target,
    source: { tokenId: row.sourceTokenId, policyId: row.sourcePolicyId },
    status: row.status as DeviceCommandView['status'],
    result: result === null ? null : { code: result.code, message: result.message, ...(result.errorChain ? { errorChain: result.errorChain as Record<string, unknown>[] } : {}) },
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}
