import type { Executor } from '../../db/client.ts';
import { AppError, notFound } from '../../errors.ts';
import { newId } from '../../lib/ids.ts';
import { createOutboxRepo } from '../../mail/outbox.repo.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { createTokenEventsRepo, type NewTokenEvent } from './token-events.repo.ts';
import type { TokenPatch } from './token-input.ts';
import { createTokenReferencesRepo } from './token-references.repo.ts';
import { createTokensRepo, type TokenRecord, type TokenRow } from './token.repo.ts';
import { loadViewContext, toTokenView, type TokenView } from './token.views.ts';

/** Rules the create, bulk and update paths share: one copy, called from each. */

/** Each referenced policy, segment and VPP location must be a live one of the organization. */
export async function checkReferences(db: Executor, organizationId: string, platform: Platform, input: TokenPatch): Promise<void> {
  const refs = createTokenReferencesRepo(db);
  const policyIds = (input.assignments ?? []).map((a) => a.policyId);
  if (policyIds.length > 0) {
    const found = await refs.livePolicies(organizationId, platform, policyIds);
    if (found.length !== new Set(policyIds).size) throw notFound();
  }
  if (input.segmentId !== undefined && input.segmentId !== null && !(await refs.segmentExists(organizationId, input.segmentId))) throw notFound();
  if (input.vppLocationId && !(await refs.liveVppLocation(organizationId, input.vppLocationId))) throw notFound();
}

export function checkPlanAllows(auth: AuthContext, platform: Platform): void {
  if (!auth.organization.planPlatforms.includes(platform)) throw new AppError('PLAN_FEATURE');
}

/**
 * How many more tokens the plan's cap allows now. With a cap, the organization row is locked
 * for the rest of the transaction, so concurrent creates count one after the other.
 */
export async function remainingCapacity(db: Executor, auth: AuthContext, now: Date): Promise<number> {
  const cap = auth.organization.planMaxOpenTokens;
  if (cap === null) return Number.POSITIVE_INFINITY;
  const repo = createTokensRepo(db);
  await repo.lockOrganization(auth.organization.id);
  return Math.max(0, cap - (await repo.countOpen(auth.organization.id, now)));
}

/** Renders rows read with their view columns (the list's). */
export async function renderRows(db: Executor, organizationId: string, platform: Platform, rows: TokenRow[], base: { now: Date; publicUrl: string }) {
  if (rows.length === 0) return [];
  const ctx = await loadViewContext(db, organizationId, platform, rows, base);
  return rows.map((r) => toTokenView(platform, r, ctx));
}

/** Renders tokens just written: reads them back with their view columns, in the order given. */
export async function renderTokens(
  db: Executor,
  organizationId: string,
  platform: Platform,
  tokens: TokenRecord[],
  base: { now: Date; publicUrl: string },
): Promise<TokenView[]> {
  const rows = new Map((await createTokensRepo(db).findRowsByIds(organizationId, tokens.map((t) => t.id))).map((r) => [r.token.id, r]));
  return renderRows(db, organizationId, platform, tokens.map((t) => rows.get(t.id)!), base);
}

export async function renderToken(db: Executor, organizationId: string, platform: Platform, token: TokenRecord, base: { now: Date; publicUrl: string }) {
  return (await renderTokens(db, organizationId, platform, [token], base))[0]!;
}

export async function getTokenOrFail(db: Executor, organizationId: string, platform: Platform, id: string, options: { forUpdate?: boolean } = {}): Promise<TokenRecord> {
  const token = await createTokensRepo(db).get(organizationId, platform, id.toLowerCase(), options);
  if (!token) throw notFound();
  return token;
}

/** Queues the enrollment email of each token (same transaction) and records it in the trail. */
export async function queueEmails(
  db: Executor,
  organizationId: string,
  items: Array<{ token: TokenRecord; recipient: string }>,
  actorKeyId: string | null,
  now: Date,
): Promise<void> {
  if (items.length === 0) return;
  const rows = items.map(({ token, recipient }) => ({
    id: newId(),
    tokenId: token.id,
    recipient,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  }));
  await createOutboxRepo(db).enqueue(organizationId, rows);
  const events: NewTokenEvent[] = rows.map((r) => ({ tokenId: r.tokenId, type: 'email.queued', actorKeyId, at: now, changes: { emailId: r.id } }));
  await createTokenEventsRepo(db).append(organizationId, events);
}
