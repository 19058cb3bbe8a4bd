import { Type, type Static, type TObject } from 'typebox';
import { DateTime, Id, NullableDateTime, OrgEntityParams, OrgParams, PageQuery, literals, ok, paginated, withErrors } from '../lib/schemas.ts';
import { ID_PATTERN } from '../lib/ids.ts';
import { APPLE_STATE_LITERALS, WINDOWS_STATE_LITERALS } from './device-state.ts';
import { CommandCounts, PolicyStates } from './commands/device-commands.schemas.ts';

export const WINDOWS_DEVICE_SORT_FIELDS = ['createdAt', 'updatedAt', 'enrolledAt', 'deviceName'] as const;
export type WindowsDeviceSortField = (typeof WINDOWS_DEVICE_SORT_FIELDS)[number];
export const APPLE_DEVICE_SORT_FIELDS = ['createdAt', 'updatedAt', 'lastSeenAt', 'serialNumber'] as const;
export type AppleDeviceSortField = (typeof APPLE_DEVICE_SORT_FIELDS)[number];

const NullableString = Type.Union([Type.String(), Type.Null()]);
const StringMap = Type.Record(Type.String(), Type.String());

/** A Windows PC enrolled with an enrollment token (MS-MDE2), as the admin API shows it. */
export const WindowsDevice = Type.Object({
  id: Id,
  organizationId: Id,
  winEnrollmentTokenId: Id,
  userEmail: Type.String({ description: 'The MDM user the device enrolled as' }),
  deviceId: Type.String({ description: 'The DeviceID Windows sends (enrollment and every OMA-DM session)' }),
  hwDevId: NullableString,
  deviceName: NullableString,
  osVersion: NullableString,
  state: literals(WINDOWS_STATE_LITERALS),
  certificate: Type.Object({
    serialNumber: Type.String(),
    thumbprint: Type.String({ description: 'SHA-1, upper-case hex, as Windows shows it' }),
  }),
  devInfo: StringMap,
  enrollmentContext: StringMap,
  enrolledAt: DateTime,
  lastSeenAt: NullableDateTime,
  unenrolledAt: NullableDateTime,
  createdAt: DateTime,
  updatedAt: DateTime,
  commands: CommandCounts,
  policies: PolicyStates,
});

export type WindowsDeviceView = Static<typeof WindowsDevice>;

/** What the device told in its check-ins; push token, PushMagic and UnlockToken stay inside. */
export const AppleDevice = Type.Object({
  id: Id,
  organization: Id,
  enrollmentToken: Id,
  state: literals(APPLE_STATE_LITERALS),
  udid: Type.String(),
  serialNumber: NullableString,
  model: NullableString,
  modelName: NullableString,
  productName: NullableString,
  osVersion: NullableString,
  buildVersion: NullableString,
  deviceName: NullableString,
  topic: Type.String(),
  certificateThumbprint: Type.String(),
  pushTokenSet: Type.Boolean({ description: 'Whether the device sent its APNs push token (TokenUpdate)' }),
  pushTokenInvalid: Type.Boolean({ description: 'APNs refused the device’s current push token for good (410 Unregistered, 400 BadDeviceToken): it is not pushed until a TokenUpdate brings a new one' }),
  authenticatedAt: DateTime,
  enrolledAt: NullableDateTime,
  unenrolledAt: NullableDateTime,
  lastSeenAt: DateTime,
  createdAt: DateTime,
  updatedAt: DateTime,
  commands: CommandCounts,
  policies: PolicyStates,
});

export type AppleDeviceView = Static<typeof AppleDevice>;

/**
 * The list's filters (besides paging and sort), the same on both platforms: its state, the MDM
 * user whose token it enrolled with, and when it was last seen. A Windows device that has not
 * opened a management session yet has no last-seen time: it counts as seen before any date.
 */
function listQuery(states: readonly string[]) {
  return Type.Object(
    {
      ...PageQuery,
      state: Type.Optional(literals(states)),
      'mdm-user': Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'The MDM user whose enrollment token the device enrolled with' })),
      'last-seen-after': Type.Optional(Type.String({ format: 'date-time', description: 'Only devices last seen at or after this time' })),
      'last-seen-before': Type.Optional(Type.String({ format: 'date-time', description: 'Only devices last seen before this time (or never)' })),
    },
    { additionalProperties: false },
  );
}

/** The words of one platform's device routes in the OpenAPI document. */
interface RouteTexts {
  tag: string;
  list: string;
  get: string;
  retire: string;
  retireDescription: string;
}

/** The list, get and retire schemas of one platform: the same shapes, its device object and words. */
function deviceRouteSchemas<D extends TObject, Q extends TObject>(device: D, query: Q, texts: RouteTexts) {
  const tags = [texts.tag];
  return {
    list: {
      tags,
      summary: texts.list,
      params: OrgParams,
      querystring: query,
      response: withErrors({ 200: ok(paginated(device)) }),
    },
    get: { tags, summary: texts.get, params: OrgEntityParams, response: withErrors({ 200: ok(device) }) },
    retire: { tags, summary: texts.retire, description: texts.retireDescription, params: OrgEntityParams, response: withErrors({ 200: ok(device) }) },
  };
}

export const WINDOWS_DEVICE_ROUTES = deviceRouteSchemas(WindowsDevice, listQuery(WINDOWS_STATE_LITERALS), {
  tag: 'Windows devices',
  list: 'List the Windows devices enrolled in the organization',
  get: 'Get a Windows device',
  retire: 'Retire a Windows device',
  retireDescription:
    'The device becomes unenrolled and every certificate Openroll issued to it is revoked: its next management session is refused, and its DeviceID may enroll again (a wiped or re-imaged PC). Retiring an unenrolled device changes nothing.',
});

export const APPLE_DEVICE_ROUTES = deviceRouteSchemas(AppleDevice, listQuery(APPLE_STATE_LITERALS), {
  tag: 'Apple devices',
  list: 'List the Apple devices enrolled with the organization’s tokens',
  get: 'Get an Apple device',
  retire: 'Retire an Apple device: unenrolled, its identity certificates revoked',
  retireDescription:
    'The device can no longer check in (its identity is refused with 401), and its UDID is free: the same hardware, wiped, enrolls again with a new token. Repeating it answers the same device.',
});
