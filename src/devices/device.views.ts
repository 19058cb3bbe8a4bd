import type { AppleDeviceRecord } from './apple-devices.repo.ts';
import { emptyCounts, type CommandCounts, type PolicyState } from './commands/device-command.ts';
import { deviceState, stateLiteral } from './device-state.ts';
import type { AppleDeviceView, WindowsDeviceView } from './devices.schemas.ts';
import type { WindowsDeviceRecord } from './windows-devices.repo.ts';

/** Rows -> each platform's device shape. The state goes through the one vocabulary (device-state.ts). */

export function toWindowsDeviceView(row: WindowsDeviceRecord, commands: CommandCounts = emptyCounts(), policies: PolicyState[] = []): WindowsDeviceView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    winEnrollmentTokenId: row.tokenId,
    userEmail: row.userEmail,
    deviceId: row.deviceIdentifier,
    hwDevId: row.hwDevId,
    deviceName: row.deviceName,
    osVersion: row.osVersion,
    state: stateLiteral('windows', deviceState('windows', row.state)),
    certificate: { serialNumber: row.certificateSerial, thumbprint: row.certificateThumbprint },
    devInfo: row.devInfo,
    enrollmentContext: row.enrollmentContext,
    enrolledAt: row.enrolledAt.toISOString(),
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    unenrolledAt: row.unenrolledAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    commands,
    policies,
  };
}

export function toAppleDeviceView(row: AppleDeviceRecord, commands: CommandCounts = emptyCounts(), policies: PolicyState[] = [], pushTokenInvalid = false): AppleDeviceView {
  return {
    id: row.id,
    organization: row.organizationId,
    enrollmentToken: row.tokenId,
    state: stateLiteral('apple', deviceState('apple', row.state)),
    udid: row.udid,
    serialNumber: row.serialNumber,
    model: row.model,
    modelName: row.modelName,
    productName: row.productName,
    osVersion: row.osVersion,
    buildVersion: row.buildVersion,
    deviceName: row.deviceName,
    topic: row.topic,
    certificateThumbprint: row.certificateThumbprint,
    pushTokenSet: row.pushToken !== null,
    pushTokenInvalid,
    authenticatedAt: row.authenticatedAt.toISOString(),
    enrolledAt: row.enrolledAt?.toISOString() ?? null,
    unenrolledAt: row.unenrolledAt?.toISOString() ?? null,
    lastSeenAt: row.lastSeenAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    commands,
    policies,
  };
}
