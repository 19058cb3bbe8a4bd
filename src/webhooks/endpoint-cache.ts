import { createChangeListener } from '../db/change-listener.ts';
import type { Database, Executor } from '../db/client.ts';
import { enabledEndpoints, type EnabledEndpoint } from './webhooks.repo.ts';

/** The channel migrations/0016 notifies with an organization's id when one of its endpoints changes. */
export const WEBHOOK_ENDPOINTS_CHANNEL = 'openroll_webhook_endpoints';
/** A bound on staleness should a notification ever be lost while the channel looks up. */
const ENDPOINT_CACHE_MS = 30_000;
const ENDPOINT_CACHE_ORGANIZATIONS = 10_000;

/** How a token transition finds the endpoints to deliver it to: read on `db`, or remembered. */
export type EndpointLookup = (db: Executor, organizationId: string) => Promise<EnabledEndpoint[]>;

/**
 * Every token transition asks which endpoints want it, and most organizations have none: kept
 * per organization (the empty answer too) so that a create costs no endpoint read. Used only
 * while this process hears every change to endpoints (a NOTIFY from migrations/0016, on insert
 * too, whoever made it); without that channel every lookup reads the database. An endpoint
 * created or disabled is seen by the next transition everywhere.
 */
export function createEndpointCache(deps: { database: Database }) {
  const orgs = new Map<string, { endpoints: EnabledEndpoint[]; until: number }>();
  const changes = createChangeListener(deps.database.listen, WEBHOOK_ENDPOINTS_CHANNEL, (organizationId) => {
    if (organizationId === undefined) orgs.clear();
    else orgs.delete(organizationId);
  });

  const enabled: EndpointLookup = async (db, organizationId) => {
    const hit = changes.hearing() ? orgs.get(organizationId) : undefined;
    if (hit && hit.until > Date.now()) return hit.endpoints;
    const heardBefore = changes.heard();
    const endpoints = await enabledEndpoints(db, organizationId);
    // Kept even when read in the caller's transaction: the callers are token transitions, which
    // never write endpoints, so what they read is what is committed (READ COMMITTED).
    if (changes.hearing() && changes.heard() === heardBefore) {
      if (orgs.size >= ENDPOINT_CACHE_ORGANIZATIONS) orgs.delete(orgs.keys().next().value!);
      orgs.set(organizationId, { endpoints, until: Date.now() + ENDPOINT_CACHE_MS });
    }
    return endpoints;
  };

  /** Listens for changes to endpoints; the cache is used only while it hears them. */
  return { enabled, watchChanges: changes.watch };
}

export type EndpointCache = ReturnType<typeof createEndpointCache>;
