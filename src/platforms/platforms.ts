import type { ErrorName } from '../errors.ts';

export const PLATFORMS = ['windows', 'apple'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * What differs between Windows and Apple in the vendor's API: names of fields, parameters and
 * permissions. Everything else is one core (STYLE.md 5).
 */
export interface PlatformNames {
  /** The path segment: /mdm/{path}/enterprise/... */
  path: Platform;
  /** `organizationId` (Windows) or `organization` (Apple). */
  organizationKey: 'organizationId' | 'organization';
  enterpriseKey: 'winEnterpriseId' | 'admEnterprise';
  deviceKey: 'winDeviceId' | 'admDevice';
  assignmentsKey: 'winPolicyAssignments' | 'admPolicyAssignments';
  /** Field of an assignment, and of the create body's legacy single policy on Windows. */
  assignmentPolicyIdKey: 'winPolicyId' | 'admPolicyId';
  assignmentPolicyKey: 'winPolicy' | 'admPolicy';
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
    path: 'windows',
    organizationKey: 'organizationId',
    enterpriseKey: 'winEnterpriseId',
    deviceKey: 'winDeviceId',
    assignmentsKey: 'winPolicyAssignments',
    assignmentPolicyIdKey: 'winPolicyId',
    assignmentPolicyKey: 'winPolicy',
    legacyPolicyIdKey: 'winPolicyId',
    policyFilter: 'win-policy',
    tokenType: 'enrollment',
    tokenSubType: 'standard',
    createError: 'WIN_TOKEN_CREATE',
    label: 'Windows',
  },
  apple: {
    path: 'apple',
    organizationKey: 'organization',
    enterpriseKey: 'admEnterprise',
    deviceKey: 'admDevice',
    assignmentsKey: 'admPolicyAssignments',
    assignmentPolicyIdKey: 'admPolicyId',
    assignmentPolicyKey: 'admPolicy',
    legacyPolicyIdKey: 'policyId',
    policyFilter: 'adm-policy',
    tokenType: 'user',
    tokenSubType: 'standard',
    createError: 'ADM_TOKEN_CREATE',
    label: 'Apple',
  },
};
