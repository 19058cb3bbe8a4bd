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

const errorRef = Type.Ref('ErrorEnvelope');

/** The error statuses every authenticated route may answer, for the OpenAPI document. */
export function withErrors<R extends Record<number, TSchema>>(responses: R) {
  return {
    ...responses,
    400: errorRef,
    401: errorRef,
    403: errorRef,
    404: errorRef,
    409: errorRef,
    413: errorRef,
    429: errorRef,
    500: errorRef,
    503: errorRef,
  };
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
