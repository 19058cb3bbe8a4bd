import { Type, type Static } from 'typebox';
import { CommandCounts } from '../../devices/commands/device-commands.schemas.ts';
import { DateTime, Id, NullableDateTime, OrgEntityParams, OrgParams, PageQuery, literals, ok, paginated, withErrors } from '../../lib/schemas.ts';

export const APPLE_DEVICE_SORT_FIELDS = ['createdAt', 'updatedAt', 'lastSeenAt', 'serialNumber'] as const;
export type AppleDeviceSortField = (typeof APPLE_DEVICE_SORT_FIELDS)[number];
export const APPLE_DEVICE_STATES = ['AUTHENTICATED', 'ENROLLED', 'UNENROLLED'] as const;

const tags = ['Apple devices'];
const NullableString = Type.Union([Type.String(), Type.Null()]);

/** What the device told in its check-ins; push token, PushMagic and UnlockToken stay inside. */
export const AppleDevice = Type.Object({
  id: Id,
  organization: Id,
  enrollmentToken: Id,
  state: literals(APPLE_DEVICE_STATES),
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
  authenticatedAt: DateTime,
  enrolledAt: NullableDateTime,
  unenrolledAt: NullableDateTime,
  lastSeenAt: DateTime,
  createdAt: DateTime,
  updatedAt: DateTime,
  /** Command queue (issue 23). */
  commands: CommandCounts,
});

export type AppleDeviceView = Static<typeof AppleDevice>;

export const listAppleDevicesSchema = {
  tags,
  summary: 'List the Apple devices enrolled with the organization’s tokens',
  params: OrgParams,
  querystring: Type.Object(PageQuery, { additionalProperties: false }),
  response: withErrors({ 200: ok(paginated(AppleDevice)) }),
};

export const getAppleDeviceSchema = {
  tags,
  summary: 'Get an Apple device',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(AppleDevice) }),
};

export const retireAppleDeviceSchema = {
  tags,
  summary: 'Retire an Apple device: unenrolled, its identity certificates revoked',
  description:
    'The device can no longer check in (its identity is refused with 401), and its UDID is free: the same hardware, wiped, enrolls again with a new token. Repeating it answers the same device.',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(AppleDevice) }),
};
