import type { ErrorName } from '../errors.ts';

export const PLATFORMS = ['windows', 'apple'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * What differs between Windows and Apple in the vendor's API: names of fields, parameters and
 * permissions. Everything else is one core (STYLE.md 5).
 */
export interface PlatformNames {
  assignmentsKey: 'winPolicyAssignments' | 'admPolicyAssignments';
  /** Field of an assignment, and of the create body's legacy single policy on Windows. */
  assignmentPolicyIdKey: 'winPolicyId' | 'admPolicyId';
  legacyPolicyIdKey: 'winPolicyId' | 'policyId';
  /** The list filter by policy. */
  policyFilter: 'win-policy' | 'adm-policy';
  tokenType: string;
  tokenSubType: string;
  createError: ErrorName;
  label: string;
}

export const PLATFORM_NAMES: Record<Platform, PlatformNames> = {
  windows: {
    assignmentsKey: 'winPolicyAssignments',
    assignmentPolicyIdKey: 'winPolicyId',
    legacyPolicyIdKey: 'winPolicyId',
    policyFilter: 'win-policy',
    tokenType: 'enrollment',
    tokenSubType: 'standard',
    createError: 'WIN_TOKEN_CREATE',
    label: 'Windows',
  },
  apple: {
    assignmentsKey: 'admPolicyAssignments',
    assignmentPolicyIdKey: 'admPolicyId',
    legacyPolicyIdKey: 'policyId',
    policyFilter: 'adm-policy',
    tokenType: 'user',
    tokenSubType: 'standard',
    createError: 'ADM_TOKEN_CREATE',
    label: 'Apple',
  },
};
