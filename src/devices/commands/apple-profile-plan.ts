import { readMobileconfig } from '../../lib/mobileconfig.ts';
import { PlistError } from '../../lib/plist.ts';
import type { TokenPolicies } from '../../modules/enrollment-tokens/token-device-access.ts';
import type { NewDeviceCommand } from './device-command.ts';
import { planEnrollmentCommands, type AppleProfile, type PlanInput } from './policy-plan.ts';

/**
 * A token's Apple profile items -> what policy-plan plans with: the items that carry a
 * `mobileconfig`, each named by its PayloadIdentifier. The API checked every one it stored; one
 * that no longer reads (stored before the check existed) is not installed rather than sent broken.
 */
export function installableProfiles(items: unknown): AppleProfile[] {
  if (!Array.isArray(items)) return [];
  const out: AppleProfile[] = [];
  for (const item of items as unknown[]) {
    if (!item || typeof item !== 'object' || typeof (item as { mobileconfig?: unknown }).mobileconfig !== 'string') continue;
    const mobileconfig = (item as { mobileconfig: string }).mobileconfig;
    try {
      out.push({ payloadIdentifier: readMobileconfig(mobileconfig).payloadIdentifier, mobileconfig });
    } catch (error) {
      if (!(error instanceof PlistError)) throw error;
    }
  }
  return out;
}

export function applePlanInput(token: TokenPolicies): PlanInput {
  return {
    platform: 'apple',
    tokenId: token.tokenId,
    tokenProfiles: installableProfiles(token.profiles),
    assignments: token.assignments.map((a) => ({ policyId: a.policyId, priority: a.priority, items: installableProfiles(a.details.profiles) })),
  };
}

/** The profiles a device of this token must have, the winner of each PayloadIdentifier (InstallProfile commands). */
export function wantedProfiles(token: TokenPolicies): NewDeviceCommand[] {
  return planEnrollmentCommands(applePlanInput(token)).filter((c) => c.type === 'InstallProfile');
}
