import { Type } from 'typebox';
import { DateTime, Id, OrgEntityParams, OrgParams, PageQuery, literals, ok, paginated, withErrors } from '../../lib/schemas.ts';

import { LANGUAGES, type Language } from '../../lib/languages.ts';

export { LANGUAGES, type Language };

export const MDM_USER_SORT_FIELDS = ['createdAt', 'updatedAt', 'email', 'name'] as const;
export type MdmUserSortField = (typeof MDM_USER_SORT_FIELDS)[number];

const tags = ['MDM users'];

/**
 * Longest search text: a substring search over two columns costs in proportion to its length
 * where no trigram index serves it; longer text would only find the rare address that long.
 */
export const SEARCH_MAX_LENGTH = 128;

export const MdmUser = Type.Object({
  id: Id,
  organizationId: Id,
  email: Type.String(),
  name: Type.String(),
  language: Type.Union([literals(LANGUAGES), Type.Null()]),
  tags: Type.Array(Type.String()),
  createdAt: DateTime,
  updatedAt: DateTime,
});

const fields = {
  email: Type.String({ format: 'email', maxLength: 320, description: 'Stored trimmed and lower-cased; unique among the live users of the organization' }),
  name: Type.String({ maxLength: 256 }),
  language: literals(LANGUAGES),
  tags: Type.Array(Type.String({ maxLength: 128 })),
};

export const listMdmUsersSchema = {
  tags,
  summary: 'List the MDM users of the organization',
  params: OrgParams,
  querystring: Type.Object(
    {
      ...PageQuery,
      search: Type.Optional(Type.String({ maxLength: SEARCH_MAX_LENGTH, description: 'Case-insensitive substring of the email or the name' })),
      email: Type.Optional(Type.String({ format: 'email', maxLength: 320, description: 'Exact email, compared lower-cased' })),
    },
    { additionalProperties: false },
  ),
  response: withErrors({ 200: ok(paginated(MdmUser)) }),
};

export const getMdmUserSchema = {
  tags,
  summary: 'Get an MDM user',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(MdmUser) }),
};

export const createMdmUserSchema = {
  tags,
  summary: 'Create an MDM user',
  params: OrgParams,
  body: Type.Object(
    { email: fields.email, name: Type.Optional(fields.name), language: Type.Optional(fields.language), tags: Type.Optional(fields.tags) },
    { additionalProperties: false },
  ),
  response: withErrors({ 200: ok(MdmUser) }),
};

export const updateMdmUserSchema = {
  tags,
  summary: 'Update an MDM user (only the fields given change)',
  params: OrgEntityParams,
  body: Type.Object(
    {
      email: Type.Optional(fields.email),
      name: Type.Optional(fields.name),
      language: Type.Optional(fields.language),
      tags: Type.Optional(fields.tags),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
  response: withErrors({ 200: ok(MdmUser) }),
};

export const deleteMdmUserSchema = {
  tags,
  summary: 'Delete an MDM user (its tokens keep showing it)',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(MdmUser) }),
};
