import type { Platform } from '../../src/platforms/platforms.ts';
import { call, type Json, type TestContext } from './test-app.ts';

export const tokensPath = (org: string, platform: Platform) => `/v1/organizations/${org}/mdm/${platform}/enterprise/enrollment-tokens`;

export const WINDOWS_TOKEN_KEYS = [
  'id', 'organizationId', 'winEnterpriseId', 'winDeviceId', 'mdmUser', 'displayName', 'tags', 'state', 'config', 'type', 'subType',
  'updatedAt', 'createdAt', 'expireAt', 'enrollmentLink', 'enrollCode', 'winPolicyId', 'winPolicyAssignments', 'summary', 'sendEmail',
  'emailText', 'segmentId',
];

export const APPLE_TOKEN_KEYS = [
  'id', 'organization', 'admEnterprise', 'admDevice', 'mdmUser', 'displayName', 'tags', 'state', 'config', 'enroll', 'type', 'subType',
  'updatedAt', 'createdAt', 'expireAt', 'enrollmentLink', 'enrollCode', 'admPolicy', 'admPolicyAssignments', 'admVppLocation', 'summary',
  'profiles', 'applications', 'sendEmail', 'emailText', 'configuration', 'segmentId',
];

export function createToken(ctx: TestContext, key: string, org: string, platform: Platform, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Json> {
  return call(ctx.app, key, { method: 'POST', url: tokensPath(org, platform), payload: body, headers });
}

export function errorPaths(res: Json): string[] {
  return (res.body.error?.data?.errors ?? []).map((e: { path: string }) => e.path).sort();
}
