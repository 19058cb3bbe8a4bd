import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import { createMdmUserSchema, deleteMdmUserSchema, getMdmUserSchema, listMdmUsersSchema, updateMdmUserSchema } from './mdm-users.schemas.ts';
import type { MdmUsersService } from './mdm-users.service.ts';

export const mdmUsersRoutes: FastifyPluginAsyncTypebox<{ mdmUsers: MdmUsersService }> = async (app, { mdmUsers }) => {
  const base = '/v1/organizations/:organizationId/mdm/users';

  app.get(base, { schema: listMdmUsersSchema, config: { permission: 'mdm.global.mdmUser.list' } }, async (request) => {
    const { page = 1, limit = 25, ...rest } = request.query;
    return { status: true as const, data: await mdmUsers.list(authOf(request), { page, limit, ...rest }) };
  });

  app.post(base, { schema: createMdmUserSchema, config: { permission: 'mdm.global.mdmUser.create' } }, async (request) => {
    return { status: true as const, data: await mdmUsers.create(authOf(request), request.body) };
  });

  app.get(`${base}/:id`, { schema: getMdmUserSchema, config: { permission: 'mdm.global.mdmUser.get' } }, async (request) => {
    return { status: true as const, data: await mdmUsers.get(authOf(request), request.params.id) };
  });

  app.put(`${base}/:id`, { schema: updateMdmUserSchema, config: { permission: 'mdm.global.mdmUser.update' } }, async (request) => {
    return { status: true as const, data: await mdmUsers.update(authOf(request), request.params.id, request.body) };
  });

  app.delete(`${base}/:id`, { schema: deleteMdmUserSchema, config: { permission: 'mdm.global.mdmUser.remove' } }, async (request) => {
    return { status: true as const, data: await mdmUsers.remove(authOf(request), request.params.id) };
  });
};
