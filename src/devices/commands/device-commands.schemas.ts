import { Type, type Static } from 'typebox';
import { DateTime, Id, NullableDateTime, NullableId, OrgEntityParams, PageQuery, literals, ok, paginated, withErrors } from '../../lib/schemas.ts';
import { COMMAND_STATUSES, POLICY_STATES, type CommandPlatform } from './device-command.ts';

export const COMMAND_SORT_FIELDS = ['createdAt', 'updatedAt', 'status'] as const;

const Count = Type.Integer({ minimum: 0 });

/** The `commands` of a device object: how many of its commands are in each status. */
export const CommandCounts = Type.Object(
  { queued: Count, sent: Count, acknowledged: Count, error: Count },
  { description: 'How many of the device’s commands are in each status' },
);

/** Where the device stands with each policy of its token, from the commands the policy sent it. */
export const PolicyStates = Type.Array(
  Type.Object({
    policyId: NullableId,
    state: literals(POLICY_STATES),
  }),
  { description: 'Per policy (policyId null: the token’s own profiles): pending while a command is queued or sent, failed if the device answered one with an error, else applied' },
);

/** One command of a device's queue (CONTRACT.md section 6, "The queue"). */
export const DeviceCommand = Type.Object({
  id: Id,
  deviceId: Id,
  type: Type.String({ description: 'The OMA-DM verb (Replace, Add, Get, ...) or the Apple RequestType (DeviceInformation, InstallProfile, ...)' }),
  target: Type.Union([Type.String(), Type.Null()], { description: 'The LocURI, or the profile’s PayloadIdentifier; null for queries' }),
  source: Type.Object({ tokenId: NullableId, policyId: NullableId }),
  status: literals(COMMAND_STATUSES),
  result: Type.Union([
    Type.Object({
      code: Type.Union([Type.Integer(), Type.Null()], { description: 'The OMA-DM status code, or the first ErrorCode of an Apple ErrorChain' }),
      message: Type.Union([Type.String(), Type.Null()]),
      errorChain: Type.Optional(Type.Array(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true }))),
    }),
    Type.Null(),
  ]),
  createdAt: DateTime,
  sentAt: NullableDateTime,
  completedAt: NullableDateTime,
});

export type DeviceCommandView = Static<typeof DeviceCommand>;

export function listDeviceCommandsSchema(platform: CommandPlatform) {
  return {
    tags: [platform === 'windows' ? 'Windows devices' : 'Apple devices'],
    summary: `List the commands queued for ${platform === 'windows' ? 'a Windows' : 'an Apple'} device, and what it answered`,
    description: 'Sort by createdAt (the default, oldest first), updatedAt or status.',
    params: OrgEntityParams,
    querystring: Type.Object(PageQuery, { additionalProperties: false }),
    response: withErrors({ 200: ok(paginated(DeviceCommand)) }),
  };
}
