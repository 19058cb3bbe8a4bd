import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import { createSegmentSchema, deleteSegmentSchema, getSegmentSchema, listSegmentsSchema, updateSegmentSchema } from './segments.schemas.ts';
import type { SegmentsService } from './segments.service.ts';

export const segmentsRoutes: FastifyPluginAsyncTypebox<{ segments: SegmentsService }> = async (app, { segments }) => {
  const base = '/v1/organizations/:organizationId/segments';

  app.get(base, { schema: listSegmentsSchema, config: { permission: 'base.organization.segment.list' } }, async (request) => {
    const { page = 1, limit = 25, sort } = request.query;
    return { status: true as const, data: await segments.list(authOf(request), { page, limit, sort }) };
  });

  app.post(base, { schema: createSegmentSchema, config: { permission: 'base.organization.segment.create' } }, async (request) => {
    return { status: true as const, data: await segments.create(authOf(request), request.body) };
  });

  app.get(`${base}/:id`, { schema: getSegmentSchema, config: { permission: 'base.organization.segment.get' } }, async (request) => {
    return { status: true as const, data: await segments.get(authOf(request), request.params.id) };
  });

  app.put(`${base}/:id`, { schema: updateSegmentSchema, config: { permission: 'base.organization.segment.update' } }, async (request) => {
    return { status: true as const, data: await segments.update(authOf(request), request.params.id, request.body) };
  });

  app.delete(`${base}/:id`, { schema: deleteSegmentSchema, config: { permission: 'base.organization.segment.remove' } }, async (request) => {
    return { status: true as const, data: await segments.remove(authOf(request), request.params.id) };
  });
};
