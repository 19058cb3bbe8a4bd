import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import type { Platform } from '../../platforms/platforms.ts';
import { policySchemas } from './policies.schemas.ts';
import type { PoliciesService } from './policies.service.ts';

const PERMISSIONS = {
  windows: {
    list: 'mdm.windows.policy.list',
    get: 'mdm.windows.policy.get',
    create: 'mdm.windows.policy.create',
    update: 'mdm.windows.policy.update',
    remove: 'mdm.windows.policy.remove',
  },
  apple: {
    list: 'mdm.apple.policy.list',
    get: 'mdm.apple.policy.get',
    create: 'mdm.apple.policy.create',
    update: 'mdm.apple.policy.update',
    remove: 'mdm.apple.policy.remove',
  },
} as const;

/** Registered once per platform (STYLE.md 5): paths, permissions and shapes follow `platform`. */
export const policiesRoutes: FastifyPluginAsyncTypebox<{ policies: PoliciesService; platform: Platform }> = async (app, { policies, platform }) => {
  const base = `/v1/organizations/:organizationId/mdm/${platform}/enterprise/policies`;
  const schemas = policySchemas(platform);
  const permission = PERMISSIONS[platform];

  app.get(base, { schema: schemas.list, config: { permission: permission.list } }, async (request) => {
    const { page = 1, limit = 25, sort } = request.query;
    return { status: true as const, data: await policies.list(authOf(request), platform, { page, limit, sort }) };
  });

  app.post(base, { schema: schemas.create, config: { permission: permission.create } }, async (request) => {
    return { status: true as const, data: await policies.create(authOf(request), platform, request.body) };
  });

  app.get(`${base}/:id`, { schema: schemas.get, config: { permission: permission.get } }, async (request) => {
    return { status: true as const, data: await policies.get(authOf(request), platform, request.params.id) };
  });

  app.put(`${base}/:id`, { schema: schemas.update, config: { permission: permission.update } }, async (request) => {
    return { status: true as const, data: await policies.update(authOf(request), platform, request.params.id, request.body) };
  });

  app.delete(`${base}/:id`, { schema: schemas.remove, config: { permission: permission.remove } }, async (request) => {
    return { status: true as const, data: await policies.remove(authOf(request), platform, request.params.id) };
  });
};
