import { Type, type Static } from 'typebox';
import { AnyObject, DateTime, Id, NullableDateTime, OrganizationParam, OrgEntityParams, OrgParams, PageQuery, literals, ok, paginated, withErrors } from '../lib/schemas.ts';
import { WEBHOOK_EVENT_TYPES } from './webhook-events.ts';

const tags = ['Webhooks'];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

const EventType = literals(WEBHOOK_EVENT_TYPES);
const Events = Type.Array(EventType, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, uniqueItems: true, description: 'The event types sent to the endpoint' });
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL the events are POSTed to' });
const Description = Type.String({ maxLength: 256 });

export const Webhook = Type.Object({
  id: Id,
  organizationId: Id,
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(EventType),
  enabled: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type WebhookView = Static<typeof Webhook>;

const CreatedWebhook = Type.Intersect([
  Webhook,
  Type.Object({ secret: Type.String({ description: 'The signing secret (whsec_...), shown only in this response' }) }),
]);

export const WebhookDelivery = Type.Object({
  id: Id,
  webhookId: Id,
  eventType: EventType,
  tokenId: Id,
  status: literals(DELIVERY_STATUSES),
  attempts: Type.Integer({ description: 'Attempts in the current round (a redelivery starts a new round)' }),
  responseStatus: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last attempt; null when there was no answer' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: NullableDateTime,
  lastAttemptAt: NullableDateTime,
  deliveredAt: NullableDateTime,
  createdAt: DateTime,
  payload: AnyObject,
});
export type WebhookDeliveryView = Static<typeof WebhookDelivery>;

const DeliveryParams = Type.Object({ organizationId: OrganizationParam, id: Id, deliveryId: Id }, { additionalProperties: false });

export const listWebhooksSchema = {
  tags,
  summary: 'List the webhook endpoints of the organization',
  params: OrgParams,
  querystring: Type.Object({ page: PageQuery.page, limit: PageQuery.limit }, { additionalProperties: false }),
  response: withErrors({ 200: ok(paginated(Webhook)) }),
};

export const createWebhookSchema = {
  tags,
  summary: 'Create a webhook endpoint (its signing secret is returned once)',
  params: OrgParams,
  body: Type.Object(
    { url: Url, description: Type.Optional(Description), events: Type.Optional(Events), enabled: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  response: withErrors({ 200: ok(CreatedWebhook) }),
};

export const getWebhookSchema = { tags, summary: 'Get a webhook endpoint', params: OrgEntityParams, response: withErrors({ 200: ok(Webhook) }) };

export const updateWebhookSchema = {
  tags,
  summary: 'Update a webhook endpoint: URL, description, events, enabled',
  params: OrgEntityParams,
  body: Type.Object(
    { url: Type.Optional(Url), description: Type.Optional(Description), events: Type.Optional(Events), enabled: Type.Optional(Type.Boolean()) },
    { additionalProperties: false, minProperties: 1 },
  ),
  response: withErrors({ 200: ok(Webhook) }),
};

export const deleteWebhookSchema = {
  tags,
  summary: 'Delete a webhook endpoint and its delivery log',
  params: OrgEntityParams,
  response: withErrors({ 200: ok(Webhook) }),
};

export const listDeliveriesSchema = {
  tags,
  summary: 'The delivery log of a webhook endpoint, newest first',
  params: OrgEntityParams,
  querystring: Type.Object({ page: PageQuery.page, limit: PageQuery.limit, status: Type.Optional(literals(DELIVERY_STATUSES)) }, { additionalProperties: false }),
  response: withErrors({ 200: ok(paginated(WebhookDelivery)) }),
};

export const redeliverSchema = {
  tags,
  summary: 'Queue a delivery again, due now, with a new round of attempts',
  params: DeliveryParams,
  response: withErrors({ 200: ok(WebhookDelivery) }),
};
