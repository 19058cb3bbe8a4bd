import { Type } from 'typebox';
import { DateTime, Id, NullableDateTime, OrgEntityParams, OrgParams, PageQuery, ok, paginated, withErrors } from '../../lib/schemas.ts';
import { ROLES } from '../../permissions.ts';

export const ApiKey = Type.Object({
  id: Id,
  organizationId: Id,
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, for recognising it' }),
  role: Type.Union([Type.Union(ROLES.map((r) => Type.Literal(r))), Type.Null()]),
  permissions: Type.Array(Type.String()),
  expiresAt: NullableDateTime,
  revokedAt: NullableDateTime,
  createdAt: DateTime,
});

const CreatedApiKey = Type.Intersect([ApiKey, Type.Object({ key: Type.String({ description: 'The secret, shown only in this response' }) })]);

export const listApiKeysSchema = {
  tags: ['API keys'],
  summary: 'List the API keys of the organization',
  params: OrgParams,
  querystring: Type.Object({ page: PageQuery.page, limit: PageQuery.limit }, { additionalProperties: false }),
  response: withErrors({ 200: ok(paginated(ApiKey)) }),
};

export const createApiKeySchema = {
  tags: ['API keys'],
  summary: 'Create an API key (its secret is returned once)',
  params: OrgParams,
  body: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 128 }),
      role: Type.Optional(Type.Union(ROLES.map((r) => Type.Literal(r)))),
      permissions: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { minItems: 1, maxItems: 100 })),
      expiresAt: Type.Optional(DateTime),
    },
    { additionalProperties: false },
  ),
  response: withErrors({ 200: ok(CreatedApiKey) }),
};

export const revokeApiKeySchema = {
  tags: ['API keys'],
  summary: 'Revoke an API key',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(ApiKey) }),
};
