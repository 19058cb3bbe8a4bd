import { Type, type Static } from 'typebox';
import { AnyObject, DateTime, Id, NullableDateTime, OrgParams, ok, withErrors } from '../../lib/schemas.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';

const common = { name: Type.String(), config: AnyObject, createdAt: DateTime, updatedAt: DateTime };

export const WinEnterprise = Type.Object({ id: Id, organizationId: Id, ...common });

export const AdmEnterprise = Type.Object({
  id: Id,
  organization: Id,
  ...common,
  enroll: Type.Object({ serverExpirationDate: NullableDateTime, mobileConfigSigned: Type.Boolean() }),
});

export type WinEnterpriseView = Static<typeof WinEnterprise>;
export type AdmEnterpriseView = Static<typeof AdmEnterprise>;

export function getEnterpriseSchema(platform: Platform) {
  return {
    tags: [`${PLATFORM_NAMES[platform].label} enterprise`],
    summary: `Get the organization's ${PLATFORM_NAMES[platform].label} enterprise`,
    params: OrgParams,
    response: withErrors({ 200: ok(platform === 'windows' ? WinEnterprise : AdmEnterprise) }),
  };
}
