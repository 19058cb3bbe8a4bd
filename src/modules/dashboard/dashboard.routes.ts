import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../../plugins/auth.ts';
import { getDashboardSchema } from './dashboard.schemas.ts';
import type { DashboardService } from './dashboard.service.ts';

export const dashboardRoutes: FastifyPluginAsyncTypebox<{ dashboard: DashboardService }> = async (app, { dashboard }) => {
  app.get('/v1/organizations/:organizationId/dashboard', { schema: getDashboardSchema, config: { permission: 'base.organization.dashboard.get' } }, async (request) => {
    return { status: true as const, data: await dashboard.get(authOf(request)) };
  });
};
