import type { Executor } from '../db/client.ts';
import { redeemedTokensOfPolicy, tokenPolicies } from '../modules/enrollment-tokens/token-device-access.ts';
import { wantedProfiles } from './commands/apple-profile-plan.ts';
import type { AppleCommandPayload } from './commands/device-command.ts';
import type { DeviceCommandsService } from './commands/device-commands.service.ts';
import type { WantedProfile } from './commands/device-commands.repo.ts';
import { stateLiteral } from './device-state.ts';

/**
 * When an Apple policy's profiles change, or a redeemed token's own profiles or assignments
 * (CONTRACT.md section 6, "When policies change"): every enrolled device of a token concerned
 * gets the difference against what it was sent, InstallProfile
 * for a changed or added profile and RemoveProfile for a removed one. It runs in the update's
 * transaction (the policies and token modules call it through the hooks container.ts wires), so it happens
 * once however many server processes run, and not at all if the update rolls back.
 */
export function createAppleProfileSync(deps: { commands: DeviceCommandsService }) {
  return {
    async policyChanged(tx: Executor, organizationId: string, policyId: string): Promise<{ deviceId: string; count: number }[]> {
      return queueDifference(tx, organizationId, await redeemedTokensOfPolicy(tx, organizationId, 'apple', policyId));
    },

    /** A redeemed token's own profiles or policy assignments changed: its device gets the same difference. */
    async tokenChanged(tx: Executor, organizationId: string, tokenId: string): Promise<{ deviceId: string; count: number }[]> {
      return queueDifference(tx, organizationId, [tokenId]);
    },
  };

  async function queueDifference(tx: Executor, organizationId: string, tokenIds: string[]): Promise<{ deviceId: string; count: number }[]> {
    if (tokenIds.length === 0) return [];
    // What each token's device must have now: the same precedence as at enrollment (policy-plan.ts).
    const wanted: WantedProfile[] = (await tokenPolicies(tx, organizationId, 'apple', tokenIds)).flatMap((token) =>
      wantedProfiles(token).map((c) => ({
        token_id: token.tokenId,
        policy_id: c.source?.policyId ?? null,
        target: c.target!,
        mobileconfig: String((c.payload as AppleCommandPayload).mobileconfig),
      })),
    );
    return deps.commands.queueProfileDifference(tx, organizationId, { tokenIds, wanted, enrolledState: stateLiteral('apple', 'enrolled') });
  }
}

export type AppleProfileSync = ReturnType<typeof createAppleProfileSync>;
