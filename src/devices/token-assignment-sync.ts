import type { Executor } from '../db/client.ts';
import type { AssignmentsChange } from '../modules/enrollment-tokens/token-lifecycle.service.ts';
import { assignedPoliciesInTransaction, livePoliciesOf } from '../modules/enrollment-tokens/token-device-access.ts';
import type { Platform } from '../platforms/platforms.ts';
import type { AppleProfileSync } from './apple-profile-sync.ts';
import type { DeviceCommandsService } from './commands/device-commands.service.ts';
import { changedCommands, planEnrollmentCommands, windowsAssignments } from './commands/policy-plan.ts';
import { deviceState } from './device-state.ts';
import { createWindowsDevicesRepo } from './windows-devices.repo.ts';

/**
 * When a redeemed token's assignments (or, Apple, its own profiles) change (CONTRACT.md section
 * 6, "When policies change"): its enrolled device gets the difference, in the token update's
 * transaction (the token module calls it through the hook container.ts wires), so once however
 * many processes run. The same planners as at enrollment and on a policy's edit: Windows the
 * changed or added winning settings (policy-plan.ts, before against after), Apple the profile
 * difference against what the device was sent (apple-profile-sync.ts), each with its push.
 */
export function createTokenAssignmentSync(deps: { commands: DeviceCommandsService; appleProfiles: AppleProfileSync }) {
  async function windowsChanged(tx: Executor, organizationId: string, change: AssignmentsChange): Promise<void> {
    const device = await createWindowsDevicesRepo(tx).get(organizationId, change.deviceId);
    if (!device || device.tokenId !== change.tokenId || deviceState('windows', device.state) !== 'enrolled') return;
    const plan = async (assigned: Awaited<ReturnType<typeof livePoliciesOf>>) => planEnrollmentCommands({ platform: 'windows', tokenId: change.tokenId, assignments: windowsAssignments(assigned) });
    const before = await plan(await livePoliciesOf(tx, organizationId, change.before));
    const after = await plan(await assignedPoliciesInTransaction(tx, organizationId, change.tokenId));
    await deps.commands.enqueue(tx, organizationId, { id: device.id, platform: 'windows' }, changedCommands(before, after));
  }

  return {
    async tokenChanged(tx: Executor, organizationId: string, platform: Platform, change: AssignmentsChange): Promise<void> {
      if (platform === 'apple') await deps.appleProfiles.tokenChanged(tx, organizationId, change.tokenId);
      else await windowsChanged(tx, organizationId, change);
    },
  };
}
