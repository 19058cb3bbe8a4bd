import { and, eq, inArray } from 'drizzle-orm';
import { createChangeListener } from '../../db/change-listener.ts';
import type { Database, Executor } from '../../db/client.ts';
import { policies } from '../../db/schema.ts';
import type { PolicyRecord } from './policies.views.ts';

/** The channel migrations/0012 notifies with an organization's id when one of its policies changes. */
export const POLICIES_CHANNEL = 'openroll_policies';
/** A bound on staleness should a notification ever be lost while the channel looks up. */
export const POLICY_CACHE_MS = 30_000;
/** Policies kept across organizations; past it, the organizations cached longest ago go first. */
const POLICY_CACHE_ENTRIES = 20_000;

interface OrgPolicies {
  byId: Map<string, PolicyRecord>;
  until: number;
}

/**
 * The policies that token views embed, kept per organization so that a page of tokens costs no
 * policy query once its policies have been read. Used only while this process hears every
 * change to policies (a NOTIFY from migrations/0012, whoever made it: this process, another
 * server, SQL by hand); without that channel every read goes to the database. An edited or
 * deleted policy shows in the next token view everywhere.
 */
export function createPolicyCache(deps: { database: Database }) {
  const orgs = new Map<string, OrgPolicies>();
  let entries = 0;

  const drop = (organizationId: string) => {
    const org = orgs.get(organizationId);
    if (!org) return;
    entries -= org.byId.size;
    orgs.delete(organizationId);
  };
  const changes = createChangeListener(deps.database.listen, POLICIES_CHANNEL, (organizationId) => {
    if (organizationId === undefined) {
      orgs.clear();
      entries = 0;
    } else drop(organizationId);
  });

  const keep = (organizationId: string, rows: PolicyRecord[]) => {
    let org = orgs.get(organizationId);
    if (!org) orgs.set(organizationId, (org = { byId: new Map(), until: Date.now() + POLICY_CACHE_MS }));
    for (const row of rows) {
      if (!org.byId.has(row.id)) entries++;
      org.byId.set(row.id, row);
    }
    for (const oldest of orgs.keys()) {
      if (entries <= POLICY_CACHE_ENTRIES) break;
      drop(oldest);
    }
  };

  return {
    /**
     * Policies by id for embedding, deleted ones included: those cached from memory, the rest
     * read on `db` (the database, or the caller's transaction) and kept when no change came in
     * between.
     */
    async byIds(db: Executor, organizationId: string, ids: string[]): Promise<PolicyRecord[]> {
      if (ids.length === 0) return [];
      let org = changes.hearing() ? orgs.get(organizationId) : undefined;
      if (org && org.until <= Date.now()) {
        drop(organizationId);
        org = undefined;
      }
      const found: PolicyRecord[] = [];
      const missing: string[] = [];
      for (const id of ids) {
        const row = org?.byId.get(id);
        if (row) found.push(row);
        else missing.push(id);
      }
      if (missing.length === 0) return found;
      const heardBefore = changes.heard();
      const read = await db.select().from(policies).where(and(eq(policies.organizationId, organizationId), inArray(policies.id, missing)));
      if (changes.hearing() && changes.heard() === heardBefore && db === deps.database.db) keep(organizationId, read);
      return [...found, ...read];
    },

    /** Listens for changes to policies; the cache is used only while it hears them. */
    watchChanges: changes.watch,
  };
}

export type PolicyCache = ReturnType<typeof createPolicyCache>;
