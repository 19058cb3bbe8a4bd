import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import { getAppleDeviceSchema, listAppleDevicesSchema, retireAppleDeviceSchema } from './apple-devices.schemas.ts';
import type { AppleDevicesService } from './apple-devices.service.ts';

export const appleDevicesRoutes: FastifyPluginAsyncTypebox<{ appleDevices: AppleDevicesService }> = async (app, { appleDevices }) => {
  const base = '/v1/organizations/:organizationId/mdm/apple/devices';

  app.get(base, { schema: listAppleDevicesSchema, config: { permission: 'mdm.apple.device.list' } }, async (request) => {
    const { page = 1, limit = 25, sort } = request.query;
    return { status: true as const, data: await appleDevices.list(authOf(request), { page, limit, sort }) };
  });

  app.get(`${base}/:id`, { schema: getAppleDeviceSchema, config: { permission: 'mdm.apple.device.get' } }, async (request) => {
    return { status: true as const, data: await appleDevices.get(authOf(request), request.params.id) };
  });

  app.delete(`${base}/:id`, { schema: retireAppleDeviceSchema, config: { permission: 'mdm.apple.device.remove' } }, async (request) => {
    return { status: true as const, data: await appleDevices.retire(authOf(request), request.params.id) };
  });
};
