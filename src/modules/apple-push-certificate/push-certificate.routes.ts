import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import { getPushCertificateSchema, putPushCertificateSchema } from './push-certificate.schemas.ts';
import type { PushCertificateService } from './push-certificate.service.ts';

export const pushCertificateRoutes: FastifyPluginAsyncTypebox<{ pushCertificates: PushCertificateService }> = async (app, { pushCertificates }) => {
  const path = '/v1/organizations/:organizationId/mdm/apple/enterprise/push-certificate';

  app.get(path, { schema: getPushCertificateSchema, config: { permission: 'mdm.apple.enterprise.get' } }, async (request) => {
    return { status: true as const, data: await pushCertificates.get(authOf(request)) };
  });

  app.put(path, { schema: putPushCertificateSchema, config: { permission: 'mdm.apple.enterprise.update' } }, async (request) => {
    return { status: true as const, data: await pushCertificates.put(authOf(request), request.body) };
  });
};
