import { Type, type Static, type TOptional, type TProperties, type TSchema } from 'typebox';
import { AnyObject, DateTime, Id, OrgEntityParams, OrgParams, PageQuery, literals, ok, paginated, withErrors } from '../../lib/schemas.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import { WinSetting, WinSettingsInput } from './win-settings.ts';

export const POLICY_SORT_FIELDS = ['createdAt', 'updatedAt', 'name'] as const;
export type PolicySortField = (typeof POLICY_SORT_FIELDS)[number];

/** Windows policy parts as seed 003 prints them; request items reject unknown keys. */
const WinApplication = Type.Object(
  { winApplicationId: Id, configuration: Type.Optional(AnyObject), action: Type.Optional(literals(['forceInstall', 'available'])) },
  { additionalProperties: false },
);

const WinScript = Type.Object(
  {
    type: literals(['once', 'loop', 'onDemand']),
    id: Type.String({ minLength: 1, maxLength: 128 }),
    loopTime: Type.Optional(Type.Integer({ minimum: 0 })),
    resetDate: Type.Optional(DateTime),
    arguments: Type.Optional(Type.String({ maxLength: 10_000 })),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    runner: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

const WinAdmxConfig = Type.Object({ winAdmxConfigId: Id }, { additionalProperties: false });

const WinAgentConfiguration = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    buildTag: Type.Optional(Type.String({ maxLength: 128 })),
    allowLocation: Type.Optional(Type.Boolean()),
    allowNetworkStatus: Type.Optional(Type.Boolean()),
    allowPackageTime: Type.Optional(Type.Boolean()),
    allowPackageTransfer: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const WinAsset = Type.Object(
  {
    mdmAssetId: Id,
    location: Type.Optional(Type.String({ maxLength: 256 })),
    assetName: Type.Optional(Type.String({ maxLength: 256 })),
    scope: Type.Optional(literals(['user', 'system', 'all-users'])),
  },
  { additionalProperties: false },
);

const AdmxConfigInfo = Type.Object({
  id: Id,
  appName: Type.String(),
  settingType: Type.String(),
  fileName: Type.String(),
  description: Type.String(),
});

const Name = Type.String({ minLength: 1, maxLength: 256 });

/** Body fields per platform, all optional here; `name` is required on create. */
const WIN_FIELDS = {
  name: Name,
  config: AnyObject,
  applications: Type.Array(WinApplication),
  scripts: Type.Array(WinScript),
  admxConfigs: Type.Array(WinAdmxConfig),
  agentConfiguration: Type.Union([WinAgentConfiguration, Type.Null()]),
  assets: Type.Array(WinAsset),
  /** Openroll's addition (CONTRACT.md section 6): custom OMA-URI settings, sent to enrolled devices. */
  settings: WinSettingsInput,
};

/**
 * An Apple profile item: any fields, kept as given; one with `mobileconfig` (the XML text of a
 * configuration profile, checked by lib/mobileconfig.ts) is installed on the devices.
 */
export const ProfileItem = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  properties: {
    mobileconfig: {
      type: 'string',
      description:
        'The XML text of a configuration profile: a plist dictionary with PayloadType Configuration, PayloadIdentifier, PayloadUUID, PayloadVersion and a PayloadContent array, at most 512 KB. Items with it are installed (InstallProfile).',
    },
  },
  additionalProperties: true,
});

const ADM_FIELDS = {
  name: Name,
  config: AnyObject,
  profiles: Type.Array(ProfileItem),
  applications: Type.Array(AnyObject),
};

/** Every field optional: what an update body takes. */
function optional<P extends TProperties>(fields: P): { [K in keyof P]: TOptional<P[K] & TSchema> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof P]: TOptional<P[K] & TSchema> };
}

const { name: _winName, ...winRest } = WIN_FIELDS;
const { name: _admName, ...admRest } = ADM_FIELDS;

export const WinPolicyCreateBody = Type.Object({ name: Name, ...optional(winRest) }, { additionalProperties: false });
export const WinPolicyUpdateBody = Type.Object(optional(WIN_FIELDS), { additionalProperties: false, minProperties: 1 });
export const AdmPolicyCreateBody = Type.Object({ name: Name, ...optional(admRest) }, { additionalProperties: false });
export const AdmPolicyUpdateBody = Type.Object(optional(ADM_FIELDS), { additionalProperties: false, minProperties: 1 });

export type WinPolicyInput = Static<typeof WinPolicyUpdateBody>;
export type AdmPolicyInput = Static<typeof AdmPolicyUpdateBody>;

/** A Windows policy exactly as seed 003 embeds it in a token (`winPolicy`). */
export const WinPolicy = Type.Object({
  id: Id,
  organizationId: Id,
  winEnterpriseId: Id,
  name: Type.String(),
  config: AnyObject,
  applications: Type.Array(WinApplication),
  applicationsInfo: Type.Array(AnyObject),
  scripts: Type.Array(WinScript),
  scriptsInfo: Type.Array(AnyObject),
  admxConfigs: Type.Array(WinAdmxConfig),
  admxConfigsInfo: Type.Array(AdmxConfigInfo),
  agentConfiguration: Type.Union([WinAgentConfiguration, Type.Null()]),
  assets: Type.Array(WinAsset),
  assetsInfo: Type.Array(AnyObject),
  settings: Type.Array(WinSetting),
  version: Type.Integer({ minimum: 0 }),
  updatedAt: DateTime,
  createdAt: DateTime,
});

/** An Apple policy, named the Apple way (`organization`, `admEnterprise`). */
export const AdmPolicy = Type.Object({
  id: Id,
  organization: Id,
  admEnterprise: Id,
  name: Type.String(),
  config: AnyObject,
  profiles: Type.Array(ProfileItem),
  applications: Type.Array(AnyObject),
  version: Type.Integer({ minimum: 0 }),
  updatedAt: DateTime,
  createdAt: DateTime,
});

export type WinPolicyView = Static<typeof WinPolicy>;
export type AdmPolicyView = Static<typeof AdmPolicy>;
export type PolicyView = WinPolicyView | AdmPolicyView;

/** The route schemas of one platform: the module is registered once per platform. */
export function policySchemas(platform: Platform) {
  const label = PLATFORM_NAMES[platform].label;
  const tags = [`${label} policies`];
  const Policy = platform === 'windows' ? WinPolicy : AdmPolicy;
  return {
    list: {
      tags,
      summary: `List the ${label} policies of the organization`,
      params: OrgParams,
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: withErrors({ 200: ok(paginated(Policy)) }),
    },
    get: { tags, summary: `Get a ${label} policy`, params: OrgEntityParams, response: withErrors({ 200: ok(Policy) }) },
    create: {
      tags,
      summary: `Create a ${label} policy`,
      params: OrgParams,
      body: platform === 'windows' ? WinPolicyCreateBody : AdmPolicyCreateBody,
      response: withErrors({ 200: ok(Policy) }),
    },
    update: {
      tags,
      summary: `Update a ${label} policy (the fields given are replaced; the version goes up)`,
      params: OrgEntityParams,
      body: platform === 'windows' ? WinPolicyUpdateBody : AdmPolicyUpdateBody,
      response: withErrors({ 200: ok(Policy) }),
    },
    remove: {
      tags,
      summary: `Delete a ${label} policy (tokens keep embedding it)`,
      params: OrgEntityParams,
      response: withErrors({ 200: ok(Policy) }),
    },
  };
}
