import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import {
  createVppLocationSchema,
  deleteVppLocationSchema,
  getVppLocationSchema,
  listVppLocationsSchema,
  updateVppLocationSchema,
} from './vpp-locations.schemas.ts';
import type { VppLocationsService } from './vpp-locations.service.ts';

export const vppLocationsRoutes: FastifyPluginAsyncTypebox<{ vppLocations: VppLocationsService }> = async (app, { vppLocations }) => {
  const base = '/v1/organizations/:organizationId/mdm/apple/enterprise/vpp/locations';

  app.get(base, { schema: listVppLocationsSchema, config: { permission: 'mdm.apple.vppLocation.list' } }, async (request) => {
    const { page = 1, limit = 25, sort } = request.query;
    return { status: true as const, data: await vppLocations.list(authOf(request), { page, limit, sort }) };
  });

  app.post(base, { schema: createVppLocationSchema, config: { permission: 'mdm.apple.vppLocation.create' } }, async (request) => {
    return { status: true as const, data: await vppLocations.create(authOf(request), request.body) };
  });

  app.get(`${base}/:id`, { schema: getVppLocationSchema, config: { permission: 'mdm.apple.vppLocation.get' } }, async (request) => {
    return { status: true as const, data: await vppLocations.get(authOf(request), request.params.id) };
  });

  app.put(`${base}/:id`, { schema: updateVppLocationSchema, config: { permission: 'mdm.apple.vppLocation.update' } }, async (request) => {
    return { status: true as const, data: await vppLocations.update(authOf(request), request.params.id, request.body) };
  });

  app.delete(`${base}/:id`, { schema: deleteVppLocationSchema, config: { permission: 'mdm.apple.vppLocation.remove' } }, async (request) => {
    return { status: true as const, data: await vppLocations.remove(authOf(request), request.params.id) };
  });
};
