import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import type { Platform } from '../../platforms/platforms.ts';
import { getEnterpriseSchema } from './enterprises.schemas.ts';
import type { EnterprisesService } from './enterprises.service.ts';

/** Registered once per platform: the path, permission and response shape follow `platform`. */
export const enterprisesRoutes: FastifyPluginAsyncTypebox<{ enterprises: EnterprisesService; platform: Platform }> = async (
  app,
  { enterprises, platform },
) => {
  const permission = platform === 'windows' ? 'mdm.windows.enterprise.get' : 'mdm.apple.enterprise.get';
  app.get(`/v1/organizations/:organizationId/mdm/${platform}/enterprise`, { schema: getEnterpriseSchema(platform), config: { permission } }, async (request) => {
    return { status: true as const, data: await enterprises.get(authOf(request), platform) };
  });
};
