import { Type, type TLiteral, type TSchema, type TUnion } from 'typebox';
import { ID_PATTERN } from './ids.ts';

/** Reusable pieces of the route schemas: the schemas are the contract (STYLE.md 3). */

export const Id = Type.String({ pattern: ID_PATTERN, description: 'Entity Id' });
export const NullableId = Type.Union([Id, Type.Null()]);
export const DateTime = Type.String({ format: 'date-time' });
export const NullableDateTime = Type.Union([DateTime, Type.Null()]);
/**
 * Any JSON object. The same JSON Schema as Type.Object({}, { additionalProperties: true }), but
 * typed as a record of unknown values (that one's Static<> is `object`, which nothing can read).
 */
export const AnyObject = Type.Unsafe<Record<string, unknown>>({ type: 'object', properties: {}, additionalProperties: true });

export const OrganizationParam = Type.String({
  pattern: '^(([a-fA-F0-9]{24})|([a-zA-Z0-9\\-]{3,}))$',
  description: 'Entity Id or Slug',
});

export const OrgParams = Type.Object({ organizationId: OrganizationParam }, { additionalProperties: false });
export const OrgEntityParams = Type.Object({ organizationId: OrganizationParam, id: Id }, { additionalProperties: false });

export const ErrorEnvelope = Type.Object(
  {
    status: Type.Literal(false),
    error: Type.Object({
      code: Type.Integer(),
      message: Type.String(),
      requestId: Type.String(),
      data: Type.Optional(
        Type.Object(
          {
            errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
          },
          { additionalProperties: true },
        ),
      ),
    }),
  },
  { $id: 'ErrorEnvelope' },
);

export function ok<T extends TSchema>(data: T) {
  return Type.Object({ status: Type.Literal(true), data });
}

/**
 * What each error status means, for the OpenAPI document: the codes of src/errors.ts it carries
 * and the headers it sets. Every error answer is the ErrorEnvelope.
 */
const ERROR_RESPONSES: Record<number, { description: string; headers?: Record<string, { type: 'string'; description: string }> }> = {
  400: { description: 'Validation error (3000: every failing field in data.errors; also a URL that is not valid percent-encoded UTF-8, or malformed HTTP), or a rule of the operation (5017, 5050, 5145, 5146)' },
  401: { description: 'No key (4002), an unknown or revoked one (4004), or an expired one (4005)' },
  403: { description: 'The key lacks the permission (4003)' },
  404: { description: 'No such entity in the organization (3001), or an organization other than the key\'s own' },
  405: {
    description: 'Method not allowed (1003): the path has no operation for the method used',
    headers: { allow: { type: 'string', description: 'The methods the path answers' } },
  },
  408: { description: 'Request timeout (1004): the request did not arrive in time' },
  409: { description: 'Conflict (5001), or the MDM user exists (5048)' },
  413: { description: 'Payload too large (3003): the body, or a bulk, over its limit' },
  429: {
    description: 'Too many requests (4029): the key\'s, or the address\'s budget of requests without a valid key, is spent',
    headers: { 'retry-after': { type: 'string', description: 'Seconds until the budget is back' } },
  },
  431: { description: 'Request header fields too large (1005)' },
  500: { description: 'Internal error (1000); the body carries no internals' },
  503: { description: 'The database is unavailable (3002) or a statement ran past its bound (3004); also while the server shuts down' },
};

/** The ErrorEnvelope answer of one status, described. */
export function errorResponse(status: number) {
  const entry = ERROR_RESPONSES[status];
  if (!entry) throw new Error(`no description for error status ${status}`);
  return Type.Ref('ErrorEnvelope', { description: entry.description, ...(entry.headers ? { headers: entry.headers } : {}) });
}

/** The error statuses every authenticated route may answer, for the OpenAPI document. */
export function withErrors<R extends Record<number, TSchema>>(responses: R) {
  return {
    ...responses,
    400: errorResponse(400),
    401: errorResponse(401),
    403: errorResponse(403),
    404: errorResponse(404),
    409: errorResponse(409),
    413: errorResponse(413),
    429: errorResponse(429),
    500: errorResponse(500),
    503: errorResponse(503),
  };
}

/** Methods whose requests carry a body the server parses (and refuses over its limit). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The statuses any route can answer whatever its own schema says, added to every operation of
 * the OpenAPI document (app.ts, the swagger `transform`; the route's own schema and its
 * serializers are unchanged): a URL the router cannot decode or malformed HTTP (400), a method
 * the path has no route for (405), a client too slow (408) or with headers too large (431), a
 * body over the limit on methods that carry one (413), a failure (500), and a server that shuts
 * down or a database that does not answer (503). test/openapi.test.ts sends each of them.
 */
export function serverWideResponses(method: string): Record<number, TSchema> {
  const statuses = [400, 405, 408, 431, 500, 503, ...(BODY_METHODS.has(method) ? [413] : [])];
  return Object.fromEntries(statuses.map((s) => [s, errorResponse(s)]));
}

export const PageQuery = {
  // Bounded so the row offset stays an exact integer that PostgreSQL's bigint can hold.
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 25 })),
  sort: Type.Optional(Type.String({ pattern: '^[\\w.]*((:asc)|(:desc))?$', maxLength: 64 })),
};

export function paginated<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    totalDocs: Type.Integer(),
    limit: Type.Integer(),
    page: Type.Integer(),
    totalPages: Type.Integer(),
    hasPrevPage: Type.Boolean(),
    hasNextPage: Type.Boolean(),
    prevPage: Type.Union([Type.Integer(), Type.Null()]),
    nextPage: Type.Union([Type.Integer(), Type.Null()]),
  });
}

/**
 * A union of string constants whose static type is the union of the values (mapping an array
 * through Type.Literal loses them: the tuple becomes an array and Static gives `never`).
 */
export function literals<const T extends readonly string[]>(values: T): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}
