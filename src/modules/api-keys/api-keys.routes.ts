import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import type { ApiKeysService } from './api-keys.service.ts';
import { createApiKeySchema, listApiKeysSchema, revokeApiKeySchema } from './api-keys.schemas.ts';

export const apiKeysRoutes: FastifyPluginAsyncTypebox<{ apiKeys: ApiKeysService }> = async (app, { apiKeys }) => {
  const base = '/v1/organizations/:organizationId/api-keys';

  app.get(base, { schema: listApiKeysSchema, config: { permission: 'base.organization.apiKey.list' } }, async (request) => {
    const { page = 1, limit = 25 } = request.query;
    return { status: true as const, data: await apiKeys.list(authOf(request), { page, limit }) };
  });

  app.post(base, { schema: createApiKeySchema, config: { permission: 'base.organization.apiKey.create' } }, async (request) => {
    const { expiresAt, ...rest } = request.body;
    const data = await apiKeys.create(authOf(request), { ...rest, expiresAt: expiresAt ? new Date(expiresAt) : undefined });
    return { status: true as const, data };
  });

  app.delete(`${base}/:id`, { schema: revokeApiKeySchema, config: { permission: 'base.organization.apiKey.remove' } }, async (request) => {
    return { status: true as const, data: await apiKeys.revoke(authOf(request), request.params.id) };
  });
};
