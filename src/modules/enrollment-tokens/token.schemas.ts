import { Type, type Static, type TSchema } from 'typebox';
import { IDEMPOTENCY_KEY_PATTERN } from '../../lib/idempotency.ts';
import { LANGUAGES } from '../../lib/languages.ts';
import { AnyObject, DateTime, Id, literals, NullableId, OrgEntityParams, OrgParams, PageQuery, ok, paginated, withErrors } from '../../lib/schemas.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import { AdmPolicy, ProfileItem, WinPolicy } from '../policies/policies.schemas.ts';
import { SegmentId } from '../segments/segments.schemas.ts';
import { TOKEN_EVENT_TYPES } from './token-events.repo.ts';
import { TOKEN_STATES } from './token-state.ts';

export const MIN_DURATION = 60;
export const MAX_DURATION = 2_592_000;
export const DEFAULT_DURATION = 86_400;
export const MAX_BULK_EMAILS = 10_000;

const Priority = Type.Integer({ minimum: 0, maximum: 10_000 });
const Tags = Type.Array(Type.String({ maxLength: 128 }), { maxItems: 256 });

/** Fields of a create, bulk create or update that both platforms share (seeds 002, 003, 004). */
const shared = {
  sendEmail: Type.Boolean({ description: 'Send the enrollment email. The strings "true"/"false" are accepted in any case.' }),
  displayName: Type.String({ maxLength: 128 }),
  tags: Tags,
  duration: Type.Integer({ minimum: MIN_DURATION, maximum: MAX_DURATION, description: 'Number of seconds between 1m and 30d. 1d by default' }),
  language: literals(LANGUAGES),
  emailText: Type.String({ maxLength: 10_000 }),
  segmentId: SegmentId,
};

const Application = Type.Object(
  {
    admApplication: Id,
    managed: Type.Optional(Type.Boolean()),
    vpp: Type.Optional(Type.Boolean()),
    iOSApp: Type.Optional(Type.Boolean()),
    action: Type.Optional(literals(['forceInstall', 'available'])),
    configuration: Type.Optional(AnyObject),
  },
  { additionalProperties: false },
);

/**
 * The policy fields of each platform: a legacy single policy and a list of assignments. Keys
 * are spelled out per platform (not computed from PLATFORM_NAMES) so Static<> types the bodies.
 */
const winPolicyFields = {
  winPolicyId: Type.Optional(Id),
  winPolicyAssignments: Type.Optional(Type.Array(Type.Object({ winPolicyId: Id, priority: Priority }, { additionalProperties: false }), { maxItems: 100 })),
};
const admPolicyFields = {
  policyId: Type.Optional(Id),
  admPolicyAssignments: Type.Optional(Type.Array(Type.Object({ admPolicyId: Id, priority: Priority }, { additionalProperties: false }), { maxItems: 100 })),
};
const admOnlyFields = {
  admVppLocationId: Type.Optional(Id),
  configuration: Type.Optional(AnyObject),
  profiles: Type.Optional(Type.Array(ProfileItem, { maxItems: 100 })),
  applications: Type.Optional(Type.Array(Application, { maxItems: 500 })),
};

/** What a create and a bulk create set besides the user(s), on both platforms. */
const createFields = {
  sendEmail: shared.sendEmail,
  displayName: Type.Optional(shared.displayName),
  tags: Type.Optional(shared.tags),
  duration: Type.Optional(shared.duration),
  language: Type.Optional(shared.language),
  emailText: Type.Optional(shared.emailText),
  segmentId: Type.Optional(shared.segmentId),
};
const closed = { additionalProperties: false } as const;

export const WinCreateBody = Type.Object({ mdmUserId: Id, ...createFields, ...winPolicyFields }, closed);
export const AdmCreateBody = Type.Object({ mdmUserId: Id, ...createFields, ...admPolicyFields, ...admOnlyFields }, closed);

const UserEmails = Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1, maxItems: MAX_BULK_EMAILS });
export const WinBulkBody = Type.Object({ userEmails: UserEmails, ...createFields, ...winPolicyFields }, closed);
export const AdmBulkBody = Type.Object({ userEmails: UserEmails, ...createFields, ...admPolicyFields, ...admOnlyFields }, closed);

/** An update may clear what a create may only set: the legacy policy, the segment, Apple's VPP location and configuration. */
const updateFields = {
  displayName: Type.Optional(shared.displayName),
  tags: Type.Optional(shared.tags),
  segmentId: Type.Optional(Type.Union([shared.segmentId, Type.Null()])),
};
const updateOptions = { additionalProperties: false, minProperties: 1 } as const;
export const WinUpdateBody = Type.Object({ ...updateFields, ...winPolicyFields, winPolicyId: Type.Optional(NullableId) }, updateOptions);
export const AdmUpdateBody = Type.Object(
  {
    ...updateFields,
    ...admPolicyFields,
    policyId: Type.Optional(NullableId),
    ...admOnlyFields,
    admVppLocationId: Type.Optional(NullableId),
    configuration: Type.Optional(Type.Union([AnyObject, Type.Null()])),
  },
  updateOptions,
);

const listFields = { ...PageQuery, 'mdm-user': Type.Optional(Id) };
const ShowDeleted = Type.Optional(Type.Boolean({ default: false }));
export const WinListQuery = Type.Object({ ...listFields, 'win-policy': Type.Optional(Id), 'show-deleted': ShowDeleted }, closed);
export const AdmListQuery = Type.Object({ ...listFields, 'adm-policy': Type.Optional(Id), 'show-deleted': ShowDeleted }, closed);

const MdmUserRef = Type.Object({ id: Id, email: Type.String() });
const EmailSummary = Type.Object({
  status: literals(['pending', 'sent', 'failed', 'cancelled']),
  attempts: Type.Integer(),
  sentAt: Type.Union([DateTime, Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
const Summary = Type.Object({ expirationTimestamp: DateTime, email: Type.Optional(Type.Union([EmailSummary, Type.Null()])) });

/** The fields both platforms print, in the seeds' order; each token schema places them. */
const owner = {
  mdmUser: MdmUserRef,
  displayName: Type.String(),
  tags: Type.Array(Type.String()),
  state: literals(TOKEN_STATES),
  config: AnyObject,
};
const lifecycle = {
  type: Type.String(),
  subType: Type.String(),
  updatedAt: DateTime,
  createdAt: DateTime,
  expireAt: DateTime,
  enrollmentLink: Type.String({ maxLength: 500 }),
  enrollCode: Type.String(),
};
const emailFields = { sendEmail: Type.Boolean(), emailText: Type.String() };
const SegmentRef = Type.Union([Type.Integer(), Type.Null()]);

export const WinToken = Type.Object({
  id: Id,
  organizationId: Id,
  winEnterpriseId: Id,
  winDeviceId: NullableId,
  ...owner,
  ...lifecycle,
  winPolicyId: NullableId,
  winPolicyAssignments: Type.Array(Type.Object({ winPolicyId: Id, winPolicy: Type.Union([WinPolicy, Type.Null()]), priority: Priority })),
  summary: Summary,
  ...emailFields,
  segmentId: SegmentRef,
});

const VppLocationRef = Type.Object({ id: Id, name: Type.String(), config: AnyObject });

export const AdmToken = Type.Object({
  id: Id,
  organization: Id,
  admEnterprise: Id,
  admDevice: NullableId,
  ...owner,
  enroll: Type.Object({ serverExpirationDate: Type.Union([DateTime, Type.Null()]), mobileConfigSigned: Type.Boolean() }),
  ...lifecycle,
  admPolicy: Type.Union([AdmPolicy, Type.Null()]),
  admPolicyAssignments: Type.Array(Type.Object({ admPolicyId: Id, admPolicy: Type.Union([AdmPolicy, Type.Null()]), priority: Priority })),
  admVppLocation: Type.Union([VppLocationRef, Type.Null()]),
  summary: Summary,
  profiles: Type.Array(ProfileItem),
  applications: Type.Array(AnyObject),
  ...emailFields,
  configuration: Type.Union([AnyObject, Type.Null()]),
  segmentId: SegmentRef,
});

export const BulkResult = Type.Object({
  total: Type.Integer(),
  success: Type.Integer(),
  fail: Type.Integer(),
  results: Type.Array(
    Type.Object({
      email: Type.String(),
      tokenId: Type.Optional(Id),
      error: Type.Optional(Type.Object({ code: Type.Integer(), message: Type.String() })),
    }),
  ),
});

export const TokenEvent = Type.Object({
  id: Type.Integer(),
  type: literals(TOKEN_EVENT_TYPES),
  at: DateTime,
  actorKeyId: NullableId,
  changes: AnyObject,
});

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ pattern: IDEMPOTENCY_KEY_PATTERN, description: 'Makes a retry return the first answer' })),
});

/** The schemas of one platform's routes, for validation, the OpenAPI document and Static<> types. */
function routeSchemas<Token extends TSchema, Create extends TSchema, Bulk extends TSchema, Update extends TSchema, List extends TSchema>(
  platform: Platform,
  s: { token: Token; create: Create; bulk: Bulk; update: Update; list: List },
) {
  const n = PLATFORM_NAMES[platform];
  const tags = [`${n.label} enrollment tokens`];
  return {
    list: { tags, summary: `List ${n.label} enrollment tokens`, params: OrgParams, querystring: s.list, response: withErrors({ 200: ok(paginated(s.token)) }) },
    create: {
      tags,
      summary: `Create a ${n.label} enrollment token for a single user`,
      params: OrgParams,
      headers: IdempotencyHeaders,
      body: s.create,
      response: withErrors({ 200: ok(s.token) }),
    },
    bulk: {
      tags,
      summary: `Create ${n.label} enrollment tokens for multiple users`,
      params: OrgParams,
      headers: IdempotencyHeaders,
      body: s.bulk,
      response: withErrors({ 200: ok(BulkResult) }),
    },
    get: { tags, summary: `Get a ${n.label} enrollment token`, params: OrgEntityParams, response: withErrors({ 200: ok(s.token) }) },
    update: {
      tags,
      summary: `Update a ${n.label} enrollment token`,
      params: OrgEntityParams,
      body: s.update,
      response: withErrors({ 200: ok(s.token) }),
    },
    revoke: { tags, summary: `Revoke a ${n.label} enrollment token (kept as DELETED)`, params: OrgEntityParams, response: withErrors({ 200: ok(s.token) }) },
    sendEmail: {
      tags,
      summary: `Send the enrollment email of a ${n.label} token again`,
      params: OrgEntityParams,
      response: withErrors({ 200: ok(s.token) }),
    },
    events: {
      tags,
      summary: `The audit trail of a ${n.label} enrollment token`,
      params: OrgEntityParams,
      querystring: Type.Object({ page: PageQuery.page, limit: PageQuery.limit }, { additionalProperties: false }),
      response: withErrors({ 200: ok(paginated(TokenEvent)) }),
    },
  };
}

export const TOKEN_ROUTE_SCHEMAS = {
  windows: routeSchemas('windows', { token: WinToken, create: WinCreateBody, bulk: WinBulkBody, update: WinUpdateBody, list: WinListQuery }),
  apple: routeSchemas('apple', { token: AdmToken, create: AdmCreateBody, bulk: AdmBulkBody, update: AdmUpdateBody, list: AdmListQuery }),
};

export type TokenCreateBody = Static<typeof WinCreateBody> | Static<typeof AdmCreateBody>;
export type TokenBulkBody = Static<typeof WinBulkBody> | Static<typeof AdmBulkBody>;
export type TokenUpdateBody = Static<typeof WinUpdateBody> | Static<typeof AdmUpdateBody>;
export type TokenListQueryParams = Static<typeof WinListQuery> | Static<typeof AdmListQuery>;
