import type { Database } from '../../db/client.ts';
import type { EmailLimits } from '../../limits/email-limits.ts';
import { AppError, notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { parseSort, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { AuthContext } from '../api-keys/api-keys.service.ts';
import { checkReferences, getTokenOrFail, queueEmails, renderRows, renderToken } from './token-core.ts';
import { createTokenEventsRepo, type NewTokenEvent } from './token-events.repo.ts';
import type { TokenPatch } from './token-input.ts';
import { createTokenReferencesRepo } from './token-references.repo.ts';
import { effectiveState } from './token-state.ts';
import { createTokensRepo, sweepExpiredTokens, TOKEN_SORT_FIELDS, type NewTokenRecord, type TokenFilter, type TokenRecord } from './tokens.repo.ts';
import { toEventView, type TokenEventView, type TokenView } from './tokens.views.ts';

export interface TokenListQuery extends PageRequest {
  sort?: string | undefined;
  mdmUserId?: string | undefined;
  policyId?: string | undefined;
  showDeleted: boolean;
}

/** The fields a PUT may change, and how each is stored. */
function patchToColumns(patch: TokenPatch): Partial<NewTokenRecord> {
  const set: Partial<NewTokenRecord> = {};
  if (patch.displayName !== undefined) set.displayName = patch.displayName;
  if (patch.tags !== undefined) set.tags = patch.tags;
  if (patch.segmentId !== undefined) set.segmentId = patch.segmentId;
  if (patch.assignments !== undefined) {
    set.policyAssignments = patch.assignments;
    set.policyIds = patch.assignments.map((a) => a.policyId);
  }
  if (patch.vppLocationId !== undefined) set.vppLocationId = patch.vppLocationId;
  if (patch.configuration !== undefined) set.configuration = patch.configuration;
  if (patch.profiles !== undefined) set.profiles = patch.profiles;
  if (patch.applications !== undefined) set.applications = patch.applications;
  return set;
}

/** Each changed column as {from, to}, for the audit trail. */
function diff(before: TokenRecord, set: Partial<NewTokenRecord>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [key, to] of Object.entries(set)) {
    const from = before[key as keyof TokenRecord];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  }
  return changes;
}

export function createTokensService(deps: { database: Database; clock: Clock; publicUrl: string; onEmailQueued?: () => void; emailLimits: EmailLimits }) {
  const db = deps.database.db;
  const base = () => ({ now: deps.clock.now(), publicUrl: deps.publicUrl });

  return {
    async list(auth: AuthContext, platform: Platform, query: TokenListQuery): Promise<Page<TokenView>> {
      const view = base();
      const sort = parseSort(query.sort, TOKEN_SORT_FIELDS, { field: 'createdAt', direction: 'desc' });
      const filter: TokenFilter = { mdmUserId: query.mdmUserId?.toLowerCase(), policyId: query.policyId?.toLowerCase(), showDeleted: query.showDeleted };
      const page = { page: query.page, limit: query.limit };
      const { items, total } = await createTokensRepo(db).list(auth.organization.id, platform, filter, sort, page, view.now);
      return toPage(await renderRows(db, auth.organization.id, platform, items, view), total, page);
    },

    async get(auth: AuthContext, platform: Platform, id: string): Promise<TokenView> {
      const [row] = await createTokensRepo(db).findRowsByIds(auth.organization.id, [id.toLowerCase()]);
      if (!row || row.token.platform !== platform) throw notFound();
      const [view] = await renderRows(db, auth.organization.id, platform, [row], base());
      return view!;
    },

    /** Changes a token that can still enroll a device; other states answer 400 5146. */
    async update(auth: AuthContext, platform: Platform, id: string, patch: TokenPatch): Promise<TokenView> {
      const view = base();
      const org = auth.organization.id;
      return db.transaction(async (tx) => {
        // Locked: a concurrent change waits, so the trail's "from" is what this one replaces.
        const before = await getTokenOrFail(tx, org, platform, id, { forUpdate: true });
        await checkReferences(tx, org, platform, patch);
        const set = patchToColumns(patch);
        const updated = await createTokensRepo(tx).updateOpen(org, platform, before.id, set, view.now);
        if (!updated) throw new AppError('TOKEN_NOT_PENDING', { data: { state: effectiveState(before.state, before.expireAt, view.now) } });
        await createTokenEventsRepo(tx).append(org, [{ tokenId: before.id, type: 'updated', actorKeyId: auth.keyId, at: view.now, changes: diff(before, set) }]);
        return renderToken(tx, org, platform, updated, view);
      });
    },

    /** Soft revoke: DELETED, kept for audit. Repeating it answers the same token. */
    async revoke(auth: AuthContext, platform: Platform, id: string): Promise<TokenView> {
      const view = base();
      const org = auth.organization.id;
      return db.transaction(async (tx) => {
        const before = await getTokenOrFail(tx, org, platform, id, { forUpdate: true });
        const revoked = await createTokensRepo(tx).revoke(org, platform, before.id, view.now);
        if (!revoked) return renderToken(tx, org, platform, before, view);
        const from = effectiveState(before.state, before.expireAt, view.now);
        await createTokenEventsRepo(tx).append(org, [
          { tokenId: before.id, type: 'revoked', actorKeyId: auth.keyId, at: view.now, changes: { state: { from, to: 'DELETED' } } },
        ]);
        return renderToken(tx, org, platform, revoked, view);
      });
    },

    /** Queues the enrollment email again; only a token that can still enroll gets one. */
    async resendEmail(auth: AuthContext, platform: Platform, id: string): Promise<TokenView> {
      const view = base();
      const org = auth.organization.id;
      const resent = await db.transaction(async (tx) => {
        const token = await getTokenOrFail(tx, org, platform, id);
        const state = effectiveState(token.state, token.expireAt, view.now);
        if (state !== 'PENDING') throw new AppError('TOKEN_NOT_PENDING', { data: { state } });
        const [user] = await createTokenReferencesRepo(tx).usersByIds(org, [token.mdmUserId]);
        if (!user) throw new AppError('TOKEN_NOT_PENDING', { data: { state } });
        await deps.emailLimits.beforeResend(tx, org, token.id, view.now);
        await queueEmails(tx, org, [{ token, recipient: user.email }], auth.keyId, view.now);
        return renderToken(tx, org, platform, token, view);
      });
      deps.onEmailQueued?.();
      return resent;
    },

    async events(auth: AuthContext, platform: Platform, id: string, page: PageRequest): Promise<Page<TokenEventView>> {
      const token = await getTokenOrFail(db, auth.organization.id, platform, id);
      const { items, total } = await createTokenEventsRepo(db).listForToken(auth.organization.id, token.id, page);
      return toPage(items.map(toEventView), total, page);
    },

    /**
     * Binds a device to a token: the step device enrollment will call. Exactly one of many
     * concurrent redeems of a token wins; the others, and any token that is not PENDING and
     * unexpired, get 400 5146.
     */
    async redeem(organizationId: string, platform: Platform, tokenId: string, deviceId: string): Promise<TokenView> {
      const view = base();
      return db.transaction(async (tx) => {
        const done = await createTokensRepo(tx).redeem(organizationId, platform, tokenId.toLowerCase(), deviceId.toLowerCase(), view.now);
        if (!done) {
          const token = await getTokenOrFail(tx, organizationId, platform, tokenId);
          throw new AppError('TOKEN_NOT_PENDING', { data: { state: effectiveState(token.state, token.expireAt, view.now) } });
        }
        await createTokenEventsRepo(tx).append(organizationId, [
          { tokenId: done.id, type: 'redeemed', actorKeyId: null, at: view.now, changes: { state: { from: 'PENDING', to: 'DONE' }, deviceId: done.deviceId } },
        ]);
        return renderToken(tx, organizationId, platform, done, view);
      });
    },

    /** Stores EXPIRED on tokens past expireAt, with an audit event each; returns how many. */
    async sweepExpired(batch = 1_000): Promise<number> {
      const now = deps.clock.now();
      let total = 0;
      for (;;) {
        const swept = await db.transaction(async (tx) => {
          const rows = await sweepExpiredTokens(tx, now, batch);
          const byOrg = new Map<string, NewTokenEvent[]>();
          for (const r of rows) {
            const events = byOrg.get(r.organizationId) ?? [];
            events.push({ tokenId: r.id, type: 'expired', actorKeyId: null, at: r.expireAt, changes: { state: { from: 'PENDING', to: 'EXPIRED' } } });
            byOrg.set(r.organizationId, events);
          }
          for (const [org, events] of byOrg) await createTokenEventsRepo(tx).append(org, events);
          return rows.length;
        });
        total += swept;
        if (swept < batch) return total;
      }
    },
  };
}

export type TokensService = ReturnType<typeof createTokensService>;
