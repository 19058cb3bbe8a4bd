import type { Database } from '../db/client.ts';
import { notFound, validationError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { newId } from '../lib/ids.ts';
import { toPage, type Page, type PageRequest } from '../lib/pagination.ts';
import type { AuthContext } from '../auth/auth-context.ts';
import { AddressRefusedError, checkedAddresses, hostOf, type HostResolver } from './address-policy.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.ts';
import { newWebhookSecret } from './webhook-signing.ts';
import type { WebhookDeliveryView, WebhookView } from './webhooks.schemas.ts';
import { createWebhooksRepo, type EndpointChanges, type WebhookDeliveryRecord, type WebhookEndpointRecord } from './webhooks.repo.ts';

export interface WebhookInput {
  url?: string | undefined;
  description?: string | undefined;
  events?: WebhookEventType[] | undefined;
  enabled?: boolean | undefined;
}

/** Every event is a row per endpoint: a bound keeps one change's fan-out small. */
export const MAX_WEBHOOKS_PER_ORGANIZATION = 20;

export function toWebhookView(row: WebhookEndpointRecord): WebhookView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    url: row.url,
    description: row.description,
    events: row.events as WebhookEventType[],
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toDeliveryView(row: WebhookDeliveryRecord): WebhookDeliveryView {
  return {
    id: row.id,
    webhookId: row.endpointId,
    eventType: row.eventType as WebhookEventType,
    tokenId: row.tokenId,
    status: row.status as WebhookDeliveryView['status'],
    attempts: row.attempts,
    responseStatus: row.responseStatus,
    lastError: row.lastError,
    nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt.toISOString() : null,
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

const urlError = (message: string) => validationError([{ path: 'body.url', message }]);

export interface WebhooksServiceDeps {
  database: Database;
  clock: Clock;
  resolve: HostResolver;
  allowPrivateNetworks: boolean;
  /** Called when a redelivery is queued, so a local sender picks it up at once. */
  onQueued?: () => void;
}

export function createWebhooksService(deps: WebhooksServiceDeps) {
  const { db } = deps.database;
  const repo = () => createWebhooksRepo(db);

  /**
   * An endpoint URL is http(s), without credentials, and its host is a global address or
   * resolves only to global addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true lifts that). The
   * sender checks again at each delivery, after its own resolution.
   */
  async function checkUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw urlError('is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw urlError('must be an http:// or https:// URL');
    if (url.username || url.password) throw urlError('must not carry a user name or password');
    try {
      await checkedAddresses(hostOf(url), { resolve: deps.resolve, allowPrivate: deps.allowPrivateNetworks });
    } catch (error) {
      if (error instanceof AddressRefusedError) throw urlError(`is refused: ${error.message} (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow internal addresses)`);
      throw urlError(`has a host that could not be resolved: ${hostOf(url)}`);
    }
    url.hash = '';
    return url.toString();
  }

  async function endpointOrFail(auth: AuthContext, id: string): Promise<WebhookEndpointRecord> {
    const row = await repo().get(auth.organization.id, id.toLowerCase());
    if (!row) throw notFound();
    return row;
  }

  return {
    async list(auth: AuthContext, page: PageRequest): Promise<Page<WebhookView>> {
      const { items, total } = await repo().list(auth.organization.id, page);
      return toPage(items.map(toWebhookView), total, page);
    },

    async get(auth: AuthContext, id: string): Promise<WebhookView> {
      return toWebhookView(await endpointOrFail(auth, id));
    },

    /** Creates an endpoint; its secret is in this answer and never again. */
    async create(auth: AuthContext, input: WebhookInput & { url: string }): Promise<WebhookView & { secret: string }> {
      const url = await checkUrl(input.url);
      const org = auth.organization.id;
      const { total } = await repo().list(org, { page: 1, limit: 1 });
      if (total >= MAX_WEBHOOKS_PER_ORGANIZATION) {
        throw validationError([{ path: 'body', message: `an organization has at most ${MAX_WEBHOOKS_PER_ORGANIZATION} webhooks` }]);
      }
      const now = deps.clock.now();
      const secret = newWebhookSecret();
      const row = await repo().insert({
        organizationId: org,
        id: newId(),
        url,
        description: input.description ?? '',
        events: input.events ?? [...WEBHOOK_EVENT_TYPES],
        enabled: input.enabled ?? true,
        secret,
        createdAt: now,
        updatedAt: now,
      });
      return { ...toWebhookView(row), secret };
    },

    async update(auth: AuthContext, id: string, input: WebhookInput): Promise<WebhookView> {
      await endpointOrFail(auth, id);
      const changes: EndpointChanges = {};
      if (input.url !== undefined) changes.url = await checkUrl(input.url);
      if (input.description !== undefined) changes.description = input.description;
      if (input.events !== undefined) changes.events = input.events;
      if (input.enabled !== undefined) changes.enabled = input.enabled;
      const row = await repo().update(auth.organization.id, id.toLowerCase(), changes, deps.clock.now());
      if (!row) throw notFound();
      return toWebhookView(row);
    },

    async remove(auth: AuthContext, id: string): Promise<WebhookView> {
      const row = await db.transaction((tx) => createWebhooksRepo(tx).delete(auth.organization.id, id.toLowerCase()));
      if (!row) throw notFound();
      return toWebhookView(row);
    },

    async deliveries(auth: AuthContext, id: string, query: PageRequest & { status?: string | undefined }): Promise<Page<WebhookDeliveryView>> {
      const endpoint = await endpointOrFail(auth, id);
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await repo().deliveries(auth.organization.id, endpoint.id, { status: query.status }, page);
      return toPage(items.map(toDeliveryView), total, page);
    },

    async redeliver(auth: AuthContext, id: string, deliveryId: string): Promise<WebhookDeliveryView> {
      const endpoint = await endpointOrFail(auth, id);
      const row = await repo().redeliver(auth.organization.id, endpoint.id, deliveryId.toLowerCase(), deps.clock.now());
      if (!row) throw notFound();
      deps.onQueued?.();
      return toDeliveryView(row);
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
