import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import { getWindowsDeviceSchema, listWindowsDevicesSchema, retireWindowsDeviceSchema } from './windows-devices.schemas.ts';
import type { WindowsDevicesService } from './windows-devices.service.ts';

export const windowsDevicesRoutes: FastifyPluginAsyncTypebox<{ devices: WindowsDevicesService }> = async (app, { devices }) => {
  const base = '/v1/organizations/:organizationId/mdm/windows/devices';

  app.get(base, { schema: listWindowsDevicesSchema, config: { permission: 'mdm.windows.device.list' } }, async (request) => {
    const { page = 1, limit = 25, sort } = request.query;
    return { status: true as const, data: await devices.list(authOf(request), { page, limit, sort }) };
  });

  app.get(`${base}/:id`, { schema: getWindowsDeviceSchema, config: { permission: 'mdm.windows.device.get' } }, async (request) => {
    return { status: true as const, data: await devices.get(authOf(request), request.params.id) };
  });

  app.delete(`${base}/:id`, { schema: retireWindowsDeviceSchema, config: { permission: 'mdm.windows.device.remove' } }, async (request) => {
    return { status: true as const, data: await devices.retire(authOf(request), request.params.id) };
  });
};
