import { Type, type Static } from 'typebox';
import { CommandCounts } from '../../devices/commands/device-commands.schemas.ts';
import { DateTime, Id, NullableDateTime, OrgEntityParams, OrgParams, PageQuery, literals, ok, paginated, withErrors } from '../../lib/schemas.ts';

export const WINDOWS_DEVICE_SORT_FIELDS = ['createdAt', 'updatedAt', 'enrolledAt', 'deviceName'] as const;

const tags = ['Windows devices'];
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
  state: literals(['enrolled', 'unenrolled'] as const),
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
  /** Command queue (issue 23). */
  commands: CommandCounts,
});

export type WindowsDeviceView = Static<typeof WindowsDevice>;

export const listWindowsDevicesSchema = {
  tags,
  summary: 'List the Windows devices enrolled in the organization',
  params: OrgParams,
  querystring: Type.Object(PageQuery, { additionalProperties: false }),
  response: withErrors({ 200: ok(paginated(WindowsDevice)) }),
};

export const getWindowsDeviceSchema = {
  tags,
  summary: 'Get a Windows device',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(WindowsDevice) }),
};

export const retireWindowsDeviceSchema = {
  tags,
  summary: 'Retire a Windows device',
  description:
    'The device becomes unenrolled and every certificate Openroll issued to it is revoked: its next management session is refused, and its DeviceID may enroll again (a wiped or re-imaged PC). Retiring an unenrolled device changes nothing.',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(WindowsDevice) }),
};
