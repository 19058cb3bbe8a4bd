import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../plugins/auth.ts';
import type { Platform } from '../platforms/platforms.ts';
import { APPLE_DEVICE_ROUTES, WINDOWS_DEVICE_ROUTES } from './devices.schemas.ts';
import type { DevicesService } from './devices.service.ts';

const SCHEMAS = { windows: WINDOWS_DEVICE_ROUTES, apple: APPLE_DEVICE_ROUTES };

const PERMISSIONS = {
  windows: { list: 'mdm.windows.device.list', get: 'mdm.windows.device.get', remove: 'mdm.windows.device.remove' },
  apple: { list: 'mdm.apple.device.list', get: 'mdm.apple.device.get', remove: 'mdm.apple.device.remove' },
} as const;

/** Registered once per platform (STYLE.md 5): paths, permissions and device shapes follow `platform`. */
export const devicesRoutes: FastifyPluginAsyncTypebox<{ platform: Platform; devices: DevicesService<Platform> }> = async (app, { platform, devices }) => {
  const base = `/v1/organizations/:organizationId/mdm/${platform}/devices`;
  const schemas = SCHEMAS[platform];
  const permission = PERMISSIONS[platform];

  app.get(base, { schema: schemas.list, config: { permission: permission.list } }, async (request) => {
    const { page = 1, limit = 25, sort, state, 'mdm-user': mdmUserId, 'last-seen-after': after, 'last-seen-before': before } = request.query;
    const filter = { state, mdmUserId: mdmUserId?.toLowerCase(), lastSeenAfter: after ? new Date(after) : undefined, lastSeenBefore: before ? new Date(before) : undefined };
    return { status: true as const, data: await devices.list(authOf(request), { page, limit, sort, filter }) };
  });

  app.get(`${base}/:id`, { schema: schemas.get, config: { permission: permission.get } }, async (request) => {
    return { status: true as const, data: await devices.get(authOf(request), request.params.id) };
  });

  app.delete(`${base}/:id`, { schema: schemas.retire, config: { permission: permission.remove } }, async (request) => {
    return { status: true as const, data: await devices.retire(authOf(request), request.params.id) };
  });
};
