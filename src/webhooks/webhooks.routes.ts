import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authOf } from '../plugins/auth.ts';
import {
  createWebhookSchema,
  deleteWebhookSchema,
  getWebhookSchema,
  listDeliveriesSchema,
  listWebhooksSchema,
  redeliverSchema,
  updateWebhookSchema,
} from './webhooks.schemas.ts';
import type { WebhooksService } from './webhooks.service.ts';

export const webhooksRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhooksService }> = async (app, { webhooks }) => {
  const base = '/v1/organizations/:organizationId/webhooks';

  app.get(base, { schema: listWebhooksSchema, config: { permission: 'base.organization.webhook.list' } }, async (request) => {
    const { page = 1, limit = 25 } = request.query;
    return { status: true as const, data: await webhooks.list(authOf(request), { page, limit }) };
  });

  app.post(base, { schema: createWebhookSchema, config: { permission: 'base.organization.webhook.create' } }, async (request) => {
    return { status: true as const, data: await webhooks.create(authOf(request), request.body) };
  });

  app.get(`${base}/:id`, { schema: getWebhookSchema, config: { permission: 'base.organization.webhook.get' } }, async (request) => {
    return { status: true as const, data: await webhooks.get(authOf(request), request.params.id) };
  });

  app.put(`${base}/:id`, { schema: updateWebhookSchema, config: { permission: 'base.organization.webhook.update' } }, async (request) => {
    return { status: true as const, data: await webhooks.update(authOf(request), request.params.id, request.body) };
  });

  app.delete(`${base}/:id`, { schema: deleteWebhookSchema, config: { permission: 'base.organization.webhook.remove' } }, async (request) => {
    return { status: true as const, data: await webhooks.remove(authOf(request), request.params.id) };
  });

  app.get(`${base}/:id/deliveries`, { schema: listDeliveriesSchema, config: { permission: 'base.organization.webhook.get' } }, async (request) => {
    const { page = 1, limit = 25, status } = request.query;
    return { status: true as const, data: await webhooks.deliveries(authOf(request), request.params.id, { page, limit, status }) };
  });

  app.post(`${base}/:id/deliveries/:deliveryId/redeliver`, { schema: redeliverSchema, config: { permission: 'base.organization.webhook.update' } }, async (request) => {
    return { status: true as const, data: await webhooks.redeliver(authOf(request), request.params.id, request.params.deliveryId) };
  });
};
