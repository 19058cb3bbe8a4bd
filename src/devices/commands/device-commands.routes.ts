import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import { COMMAND_PLATFORMS } from './device-command.ts';
import { listDeviceCommandsSchema } from './device-commands.schemas.ts';
import type { DeviceCommandsService } from './device-commands.service.ts';

/** GET …/mdm/{windows|apple}/devices/:id/commands: a device's queue, as the admin API shows it. */
export const deviceCommandsRoutes: FastifyPluginAsyncTypebox<{ commands: DeviceCommandsService }> = async (app, { commands }) => {
  for (const platform of COMMAND_PLATFORMS) {
    app.get(
      `/v1/organizations/:organizationId/mdm/${platform}/devices/:id/commands`,
      { schema: listDeviceCommandsSchema(platform), config: { permission: `mdm.${platform}.device.get` as const } },
      async (request) => {
        const { page = 1, limit = 25, sort } = request.query;
        return { status: true as const, data: await commands.list(authOf(request), platform, request.params.id, { page, limit, sort }) };
      },
    );
  }
};
