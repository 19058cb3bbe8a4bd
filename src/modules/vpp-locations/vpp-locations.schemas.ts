import { Type, type Static } from 'typebox';
import { DateTime, Id, OrgEntityParams, OrgParams, PageQuery, literals, ok, paginated, withErrors } from '../../lib/schemas.ts';

export const VPP_PLATFORMS = ['ios', 'macos', 'tvos', 'visionos'] as const;
export const VPP_LOCATION_SORT_FIELDS = ['createdAt', 'updatedAt', 'name'] as const;
export type VppLocationSortField = (typeof VPP_LOCATION_SORT_FIELDS)[number];

const tags = ['Apple VPP locations'];

const configFields = {
  countryISO2ACode: Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 country code, stored upper-cased' }),
  defaultPlatform: literals(VPP_PLATFORMS),
  locationName: Type.String({ maxLength: 256 }),
};

/** The location's settings as seed 001 embeds them in a token (`admVppLocation.config`). */
export const VppLocationConfig = Type.Object(
  {
    countryISO2ACode: Type.Optional(configFields.countryISO2ACode),
    defaultPlatform: Type.Optional(configFields.defaultPlatform),
    locationName: Type.Optional(configFields.locationName),
  },
  { additionalProperties: false },
);

export const VppLocation = Type.Object({
  id: Id,
  organization: Id,
  name: Type.String(),
  config: VppLocationConfig,
  createdAt: DateTime,
  updatedAt: DateTime,
});

export type VppLocationView = Static<typeof VppLocation>;
export type VppLocationConfigInput = Static<typeof VppLocationConfig>;

const Name = Type.String({ minLength: 1, maxLength: 256 });

export const listVppLocationsSchema = {
  tags,
  summary: 'List the Apple VPP locations of the organization',
  params: OrgParams,
  querystring: Type.Object(PageQuery, { additionalProperties: false }),
  response: withErrors({ 200: ok(paginated(VppLocation)) }),
};

export const getVppLocationSchema = {
  tags,
  summary: 'Get an Apple VPP location',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(VppLocation) }),
};

export const createVppLocationSchema = {
  tags,
  summary: 'Create an Apple VPP location',
  params: OrgParams,
  body: Type.Object(
    {
      name: Name,
      config: Type.Object(
        { countryISO2ACode: configFields.countryISO2ACode, defaultPlatform: configFields.defaultPlatform, locationName: Type.Optional(configFields.locationName) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  response: withErrors({ 200: ok(VppLocation) }),
};

export const updateVppLocationSchema = {
  tags,
  summary: 'Update an Apple VPP location (config keys given replace the stored ones)',
  params: OrgEntityParams,
  body: Type.Object(
    { name: Type.Optional(Name), config: Type.Optional(Type.Object(VppLocationConfig.properties, { additionalProperties: false, minProperties: 1 })) },
    { additionalProperties: false, minProperties: 1 },
  ),
  response: withErrors({ 200: ok(VppLocation) }),
};

export const deleteVppLocationSchema = {
  tags,
  summary: 'Delete an Apple VPP location (tokens keep showing it)',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(VppLocation) }),
};
