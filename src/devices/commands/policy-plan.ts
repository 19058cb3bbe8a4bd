import type { NewDeviceCommand } from './device-command.ts';

/**
 * What a device must receive from its token's policies, as commands: a pure function of the
 * token and its assignments (Fleet's ComputeWindowsReconcileDeltas idea), so the rule is tested
 * without a database and the queue has one writer. CONTRACT.md section 6 states the rule.
 */

/** A Windows policy's custom OMA-URI setting. */
export interface WindowsSetting {
  locUri: string;
  format: string;
  data: string;
  verb?: 'Replace' | 'Add';
}

/** An Apple profile item; only items with `mobileconfig` are installed. */
export interface AppleProfile {
  payloadIdentifier: string;
  mobileconfig: string;
}

export interface PlannedAssignment<T> {
  policyId: string;
  /** Lower numbers win. */
  priority: number;
  items: readonly T[];
}

export type PlanInput =
  | { platform: 'windows'; tokenId: string; assignments: readonly PlannedAssignment<WindowsSetting>[] }
  | { platform: 'apple'; tokenId: string; tokenProfiles: readonly AppleProfile[]; assignments: readonly PlannedAssignment<AppleProfile>[] };

/** Assignments by precedence: priority, then policy id, so equal priorities plan the same way every time. */
function byPrecedence<T>(assignments: readonly PlannedAssignment<T>[]): PlannedAssignment<T>[] {
  return [...assignments].sort((a, b) => a.priority - b.priority || (a.policyId < b.policyId ? -1 : a.policyId > b.policyId ? 1 : 0));
}

/** The DeviceInformation queries Openroll asks every Apple device at enrollment. */
export const ENROLLMENT_QUERIES = ['DeviceName', 'Model', 'OSVersion', 'SerialNumber'] as const;

/**
 * The commands a newly enrolled device gets. Windows: one Replace/Add per LocURI, the setting of
 * the assignment with the lowest priority number. Apple: DeviceInformation, then one
 * InstallProfile per PayloadIdentifier, the token's own profiles first, then each policy's by
 * precedence. Apple's Payload is the profile's text here; signing it is the delivery's job.
 */
export function planEnrollmentCommands(input: PlanInput): NewDeviceCommand[] {
  if (input.platform === 'windows') {
    const seen = new Set<string>();
    const commands: NewDeviceCommand[] = [];
    for (const assignment of byPrecedence(input.assignments)) {
      for (const setting of assignment.items) {
        if (seen.has(setting.locUri)) continue;
        seen.add(setting.locUri);
        commands.push({
          type: setting.verb ?? 'Replace',
          target: setting.locUri,
          payload: { format: setting.format, data: setting.data },
          source: { tokenId: input.tokenId, policyId: assignment.policyId },
        });
      }
    }
    return commands;
  }
  const commands: NewDeviceCommand[] = [{ type: 'DeviceInformation', target: null, payload: { Queries: [...ENROLLMENT_QUERIES] }, source: { tokenId: input.tokenId, policyId: null } }];
  const seen = new Set<string>();
  const install = (profile: AppleProfile, policyId: string | null) => {
    if (seen.has(profile.payloadIdentifier)) return;
    seen.add(profile.payloadIdentifier);
    commands.push({ type: 'InstallProfile', target: profile.payloadIdentifier, payload: { mobileconfig: profile.mobileconfig }, source: { tokenId: input.tokenId, policyId } });
  };
  for (const profile of input.tokenProfiles) install(profile, null);
  for (const assignment of byPrecedence(input.assignments)) for (const profile of assignment.items) install(profile, assignment.policyId);
  return commands;
}

/** Assigned policies (their stored details) -> what the Windows plan takes: each policy's `settings`. */
export function windowsAssignments(assigned: readonly { policyId: string; priority: number; details: Record<string, unknown> }[]): PlannedAssignment<WindowsSetting>[] {
  return assigned.map((a) => ({ policyId: a.policyId, priority: a.priority, items: Array.isArray(a.details.settings) ? (a.details.settings as WindowsSetting[]) : [] }));
}

/**
 * What a device must be sent when its planned commands go from `before` to `after` (a change of
 * its token's assignments): each command of `after` whose target `before` did not plan, or
 * planned with another verb or payload. A winner that moved to another policy with the same
 * value is nothing to send; a target no longer planned is left as it is (Windows: the contract
 * queues only changed and added settings).
 */
export function changedCommands(before: readonly NewDeviceCommand[], after: readonly NewDeviceCommand[]): NewDeviceCommand[] {
  const was = new Map(before.map((c) => [c.target, c]));
  return after.filter((c) => {
    const old = was.get(c.target);
    return !old || old.type !== c.type || JSON.stringify(old.payload ?? null) !== JSON.stringify(c.payload ?? null);
  });
}
