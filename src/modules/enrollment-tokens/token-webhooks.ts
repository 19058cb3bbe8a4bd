import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { enrollmentTokens, mdmUsers, type TokenState } from '../../db/schema.ts';
import { newId } from '../../lib/ids.ts';
import type { EndpointLookup } from '../../webhooks/endpoint-cache.ts';
import type { TokenWebhookEventType, WebhookPayload } from '../../webhooks/webhook-events.ts';
import { enabledEndpoints, insertDeliveries, type EnabledEndpoint, type NewWebhookDelivery } from '../../webhooks/webhooks.repo.ts';
import { effectiveState } from './token-state.ts';

/** The audit trail's event types that are webhook events; the others (updated, email.queued, ...) are not. */
const FROM_AUDIT: Readonly<Record<string, TokenWebhookEventType>> = {
  created: 'enrollmentToken.created',
  'email.sent': 'enrollmentToken.emailSent',
  'email.failed': 'enrollmentToken.emailFailed',
  revoked: 'enrollmentToken.revoked',
  expired: 'enrollmentToken.expired',
  redeemed: 'enrollmentToken.redeemed',
};

/** What a webhook needs of a token audit event (token-events.repo.ts's NewTokenEvent). */
export interface TokenAuditEvent {
  tokenId: string;
  type: string;
  actorKeyId?: string | null;
  at: Date;
  changes?: Record<string, unknown>;
}

/** What a webhook's payload shows of its token: read back for a change, known beforehand for a new token. */
export type TokenSnapshot = {
  id: string;
  platform: string;
  state: string;
  expireAt: Date;
  deviceId: string | null;
  displayName: string;
  tags: string[];
  mdmUserId: string;
  email: string | null;
};

async function tokenSnapshots(db: Executor, organizationId: string, ids: string[]): Promise<Map<string, TokenSnapshot>> {
  const out = new Map<string, TokenSnapshot>();
  for (let i = 0; i < ids.length; i += 5_000) {
    const rows = await db
      .select({
        id: enrollmentTokens.id,
        platform: enrollmentTokens.platform,
        state: enrollmentTokens.state,
        expireAt: enrollmentTokens.expireAt,
        deviceId: enrollmentTokens.deviceId,
        displayName: enrollmentTokens.displayName,
        tags: enrollmentTokens.tags,
        mdmUserId: enrollmentTokens.mdmUserId,
        email: mdmUsers.email,
      })
      .from(enrollmentTokens)
      .leftJoin(mdmUsers, and(eq(mdmUsers.organizationId, enrollmentTokens.organizationId), eq(mdmUsers.id, enrollmentTokens.mdmUserId)))
      .where(and(eq(enrollmentTokens.organizationId, organizationId), inArray(enrollmentTokens.id, ids.slice(i, i + 5_000))));
    for (const row of rows) out.set(row.id, row);
  }
  return out;
}

function stateAfter(event: TokenAuditEvent, token: TokenSnapshot): string {
  const change = event.changes?.state as { to?: unknown } | undefined;
  return typeof change?.to === 'string' ? change.to : effectiveState(token.state as TokenState, token.expireAt, event.at);
}

function emailOf(changes: Record<string, unknown> | undefined): NonNullable<WebhookPayload['data']['email']> {
  const id = typeof changes?.emailId === 'string' ? changes.emailId : null;
  const attempts = typeof changes?.attempts === 'number' ? changes.attempts : null;
  return typeof changes?.error === 'string' ? { id, attempts, error: changes.error } : { id, attempts };
}

export function toPayload(type: TokenWebhookEventType, organizationId: string, event: TokenAuditEvent, token: TokenSnapshot): WebhookPayload {
  return {
    type,
    timestamp: event.at.toISOString(),
    data: {
      organizationId,
      platform: token.platform,
      tokenId: token.id,
      state: stateAfter(event, token),
      mdmUser: { id: token.mdmUserId, email: token.email },
      displayName: token.displayName,
      tags: token.tags,
      expireAt: token.expireAt.toISOString(),
      deviceId: token.deviceId,
      actorKeyId: event.actorKeyId ?? null,
      ...(type === 'enrollmentToken.emailSent' || type === 'enrollmentToken.emailFailed' ? { email: emailOf(event.changes) } : {}),
    },
  };
}

/**
 * Queues the webhook deliveries of token audit events, in the caller's transaction (the outbox
 * pattern: a committed change always has its deliveries, a rolled-back one never does).
 * Events that are not webhook events cost nothing; an organization without enabled endpoints
 * costs one indexed read (none with the endpoint cache); a bulk of 10,000 is one read of the
 * tokens and a few multi-row inserts.
 */
export async function enqueueWebhookEvents(db: Executor, organizationId: string, events: readonly TokenAuditEvent[], endpointsOf: EndpointLookup = enabledEndpoints): Promise<void> {
  const wanted = webhookEvents(events);
  if (wanted.length === 0) return;
  const endpoints = await endpointsOf(db, organizationId);
  if (!endpoints.some((e) => wanted.some(({ type }) => e.events.includes(type)))) return;
  const tokens = await tokenSnapshots(db, organizationId, [...new Set(wanted.map(({ event }) => event.tokenId))]);
  await insertDeliveries(db, webhookDeliveryRows(organizationId, events, endpoints, tokens));
}

/**
 * What webhookDeliveryRows needs for events of `types` on one token, read now, ahead of the
 * events: the endpoints that want any of them, and the token's snapshot (not read when none
 * does). The mail sender reads it before a send, so that the send's outcome is one statement.
 */
export async function webhookContextFor(
  db: Executor,
  organizationId: string,
  tokenId: string,
  types: readonly string[],
  endpointsOf: EndpointLookup = enabledEndpoints,
): Promise<{ endpoints: EnabledEndpoint[]; tokens: Map<string, TokenSnapshot> }> {
  const wanted = types.flatMap((t) => (FROM_AUDIT[t] ? [FROM_AUDIT[t]] : []));
  if (wanted.length === 0) return { endpoints: [], tokens: new Map() };
  const endpoints = (await endpointsOf(db, organizationId)).filter((e) => wanted.some((type) => e.events.includes(type)));
  return { endpoints, tokens: endpoints.length === 0 ? new Map() : await tokenSnapshots(db, organizationId, [tokenId]) };
}

/** The audit events that are webhook events, with their webhook type. */
function webhookEvents(events: readonly TokenAuditEvent[]): Array<{ event: TokenAuditEvent; type: TokenWebhookEventType }> {
  return events.flatMap((event) => {
    const type = FROM_AUDIT[event.type];
    return type ? [{ event, type }] : [];
  });
}

/**
 * The deliveries of `events` to the endpoints that want them: one row per event and endpoint,
 * its payload built from the token as `tokens` shows it. Events of tokens not in `tokens` get none.
 */
export function webhookDeliveryRows(
  organizationId: string,
  events: readonly TokenAuditEvent[],
  endpoints: readonly EnabledEndpoint[],
  tokens: ReadonlyMap<string, TokenSnapshot>,
): NewWebhookDelivery[] {
  const rows: NewWebhookDelivery[] = [];
  for (const { event, type } of webhookEvents(events)) {
    const token = tokens.get(event.tokenId);
    const to = endpoints.filter((e) => e.events.includes(type));
    if (!token || to.length === 0) continue;
    const payload = JSON.stringify(toPayload(type, organizationId, event, token));
    for (const endpoint of to) {
      rows.push({
        organizationId,
        id: newId(),
        endpointId: endpoint.id,
        tokenId: token.id,
        eventType: type,
        payload,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: event.at,
        createdAt: event.at,
        updatedAt: event.at,
      });
    }
  }
  return rows;
}
