import { Type, type Static } from 'typebox';
import { DateTime, Id, OrganizationParam, OrgParams, PageQuery, ok, paginated, withErrors } from '../../lib/schemas.ts';

export const SEGMENT_SORT_FIELDS = ['createdAt', 'updatedAt', 'name'] as const;
export type SegmentSortField = (typeof SEGMENT_SORT_FIELDS)[number];

/** Segment ids are the column's integers; larger values could never name a segment. */
export const SegmentId = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });

const tags = ['Segments'];

export const Segment = Type.Object({
  id: Type.Integer(),
  organizationId: Id,
  name: Type.String(),
  parentId: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: DateTime,
  updatedAt: DateTime,
});

export type SegmentView = Static<typeof Segment>;

const SegmentParams = Type.Object({ organizationId: OrganizationParam, id: SegmentId }, { additionalProperties: false });
const Name = Type.String({ minLength: 1, maxLength: 256 });
const ParentId = Type.Union([SegmentId, Type.Null()], { description: 'A segment of the same organization, or null for a top-level segment' });

export const listSegmentsSchema = {
  tags,
  summary: 'List the segments of the organization',
  params: OrgParams,
  querystring: Type.Object(PageQuery, { additionalProperties: false }),
  response: withErrors({ 200: ok(paginated(Segment)) }),
};

export const getSegmentSchema = { tags, summary: 'Get a segment', params: SegmentParams, response: withErrors({ 200: ok(Segment) }) };

export const createSegmentSchema = {
  tags,
  summary: 'Create a segment',
  params: OrgParams,
  body: Type.Object({ name: Name, parentId: Type.Optional(ParentId) }, { additionalProperties: false }),
  response: withErrors({ 200: ok(Segment) }),
};

export const updateSegmentSchema = {
  tags,
  summary: 'Update a segment (a new parent may not be the segment itself or one of its descendants)',
  params: SegmentParams,
  body: Type.Object({ name: Type.Optional(Name), parentId: Type.Optional(ParentId) }, { additionalProperties: false, minProperties: 1 }),
  response: withErrors({ 200: ok(Segment) }),
};

export const deleteSegmentSchema = {
  tags,
  summary: 'Delete a segment (its children become top-level segments)',
  params: SegmentParams,
  response: withErrors({ 200: ok(Segment) }),
};
