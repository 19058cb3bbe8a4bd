import { Type, type TSchema } from 'typebox';
import { IDEMPOTENCY_KEY_PATTERN } from '../../lib/idempotency.ts';
import { LANGUAGES } from '../../lib/languages.ts';
import { AnyObject, DateTime, Id, literals, NullableId, OrgEntityParams, OrgParams, PageQuery, ok, paginated, withErrors } from '../../lib/schemas.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import { AdmPolicy, WinPolicy } from '../policies/policies.schemas.ts';
import { SegmentId } from '../segments/segments.schemas.ts';
import { TOKEN_EVENT_TYPES } from './token-events.repo.ts';
import { TOKEN_STATES } from './token-state.ts';

export { LANGUAGES, type Language } from '../../lib/languages.ts';


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

/** The policy and platform-only fields of a create body, per platform. */
function platformFields(platform: Platform) {
  const n = PLATFORM_NAMES[platform];
  const assignment = Type.Object({ [n.assignmentPolicyIdKey]: Id, priority: Priority }, { additionalProperties: false });
  const common = {
    [n.legacyPolicyIdKey]: Type.Optional(Id),
    [n.assignmentsKey]: Type.Optional(Type.Array(assignment, { maxItems: 100 })),
  };
  if (platform === 'windows') return common;
  return {
    ...common,
    admVppLocationId: Type.Optional(Id),
    configuration: Type.Optional(AnyObject),
    profiles: Type.Optional(Type.Array(AnyObject, { maxItems: 100 })),
    applications: Type.Optional(Type.Array(Application, { maxItems: 500 })),
  };
}

function createFields(platform: Platform) {
  return {
    sendEmail: shared.sendEmail,
    displayName: Type.Optional(shared.displayName),
    tags: Type.Optional(shared.tags),
    duration: Type.Optional(shared.duration),
    language: Type.Optional(shared.language),
    emailText: Type.Optional(shared.emailText),
    segmentId: Type.Optional(shared.segmentId),
    ...platformFields(platform),
  };
}

export function createBodySchema(platform: Platform) {
  return Type.Object({ mdmUserId: Id, ...createFields(platform) }, { additionalProperties: false });
}

export function bulkBodySchema(platform: Platform) {
  return Type.Object(
    {
      userEmails: Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1, maxItems: MAX_BULK_EMAILS }),
      ...createFields(platform),
    },
    { additionalProperties: false },
  );
}

export function updateBodySchema(platform: Platform) {
  const n = PLATFORM_NAMES[platform];
  const fields = platformFields(platform);
  return Type.Object(
    {
      displayName: Type.Optional(shared.displayName),
      tags: Type.Optional(shared.tags),
      segmentId: Type.Optional(Type.Union([shared.segmentId, Type.Null()])),
      ...fields,
      [n.legacyPolicyIdKey]: Type.Optional(NullableId),
      ...(platform === 'apple'
        ? { admVppLocationId: Type.Optional(NullableId), configuration: Type.Optional(Type.Union([AnyObject, Type.Null()])) }
        : {}),
    },
    { additionalProperties: false, minProperties: 1 },
  );
}

export function listQuerySchema(platform: Platform) {
  return Type.Object(
    {
      ...PageQuery,
      'mdm-user': Type.Optional(Id),
      [PLATFORM_NAMES[platform].policyFilter]: Type.Optional(Id),
      'show-deleted': Type.Optional(Type.Boolean({ default: false })),
    },
    { additionalProperties: false },
  );
}

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
  profiles: Type.Array(AnyObject),
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

/** The route schemas of one platform, for the OpenAPI document and validation. */
export function tokenRouteSchemas(platform: Platform) {
  const n = PLATFORM_NAMES[platform];
  const Token: TSchema = platform === 'windows' ? WinToken : AdmToken;
  const tags = [`${n.label} enrollment tokens`];
  return {
    list: { tags, summary: `List ${n.label} enrollment tokens`, params: OrgParams, querystring: listQuerySchema(platform), response: withErrors({ 200: ok(paginated(Token)) }) },
    create: {
      tags,
      summary: `Create a ${n.label} enrollment token for a single user`,
      params: OrgParams,
      headers: IdempotencyHeaders,
      body: createBodySchema(platform),
      response: withErrors({ 200: ok(Token) }),
    },
    bulk: {
      tags,
      summary: `Create ${n.label} enrollment tokens for multiple users`,
      params: OrgParams,
      headers: IdempotencyHeaders,
      body: bulkBodySchema(platform),
      response: withErrors({ 200: ok(BulkResult) }),
    },
    get: { tags, summary: `Get a ${n.label} enrollment token`, params: OrgEntityParams, response: withErrors({ 200: ok(Token) }) },
    update: {
      tags,
      summary: `Update a ${n.label} enrollment token`,
      params: OrgEntityParams,
      body: updateBodySchema(platform),
      response: withErrors({ 200: ok(Token) }),
    },
    revoke: { tags, summary: `Revoke a ${n.label} enrollment token (kept as DELETED)`, params: OrgEntityParams, response: withErrors({ 200: ok(Token) }) },
    sendEmail: {
      tags,
      summary: `Send the enrollment email of a ${n.label} token again`,
      params: OrgEntityParams,
      response: withErrors({ 200: ok(Token) }),
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
