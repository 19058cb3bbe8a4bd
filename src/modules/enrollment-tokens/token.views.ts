import type { Static } from 'typebox';
import type { Executor } from '../../db/client.ts';
import { isLanguage } from '../../lib/languages.ts';
import type { RecipientToken } from '../../mail/recipient-token.ts';
import type { Platform } from '../../platforms/platforms.ts';
import { toPolicyView } from '../policies/policies.views.ts';
import type { PolicyCache } from '../policies/policy-cache.ts';
import type { TokenEventRecord } from './token-events.repo.ts';
import { createTokenReferencesRepo, type EnterpriseRecord, type PolicyRecord, type VppLocationRecord } from './token-references.repo.ts';
import { effectiveState, shownUpdatedAt } from './token-state.ts';
import type { AdmToken, TokenEvent, WinToken } from './token.schemas.ts';
import type { EmailSummaryRow, TokenRecord, TokenRow } from './token.repo.ts';

export type WinTokenView = Static<typeof WinToken>;
export type AdmTokenView = Static<typeof AdmToken>;
export type TokenView = WinTokenView | AdmTokenView;
export type TokenEventView = Static<typeof TokenEvent>;

/** The policies and VPP locations a write has already loaded (to check them), by id. */
export interface LoadedReferences {
  policies: Map<string, PolicyRecord>;
  vppLocations: Map<string, VppLocationRecord>;
}

/** What a page of tokens references beyond its rows, loaded once for the page. */
export interface TokenViewContext extends LoadedReferences {
  now: Date;
  publicUrl: string;
  enterprise: EnterpriseRecord;
}

/** What every view needs; reads pass the policy cache, so pages embed policies from memory. */
export interface ViewBase {
  now: Date;
  publicUrl: string;
  policyCache?: PolicyCache | undefined;
}

export function enrollmentLink(publicUrl: string, linkSecret: string): string {
  return `${publicUrl}/enroll/${linkSecret}`;
}

/**
 * Loads what the rows reference and `loaded` does not already hold. A write passes the
 * references it checked, so answering it reads nothing more (the enterprise is cached).
 */
export async function loadViewContext(
  db: Executor,
  organizationId: string,
  platform: Platform,
  tokens: TokenRecord[],
  { policyCache, ...base }: ViewBase,
  loaded: LoadedReferences = { policies: new Map(), vppLocations: new Map() },
): Promise<TokenViewContext> {
  const refs = createTokenReferencesRepo(db);
  const missing = <T>(ids: string[], have: Map<string, T>) => [...new Set(ids)].filter((id) => !have.has(id));
  const policyIds = missing(tokens.flatMap((t) => t.policyAssignments.map((a) => a.policyId)), loaded.policies);
  const vppIds = missing(tokens.flatMap((t) => (t.vppLocationId ? [t.vppLocationId] : [])), loaded.vppLocations);
  const [enterprise, policies, vpp] = await Promise.all([
    refs.enterprise(organizationId, platform),
    policyCache ? policyCache.byIds(db, organizationId, policyIds) : refs.policiesByIds(organizationId, policyIds),
    refs.vppLocationsByIds(organizationId, vppIds),
  ]);
  if (!enterprise) throw new Error(`organization ${organizationId} has no ${platform} enterprise`);
  return {
    ...base,
    enterprise,
    policies: new Map([...loaded.policies, ...policies.map((p) => [p.id, p] as const)]),
    vppLocations: new Map([...loaded.vppLocations, ...vpp.map((v) => [v.id, v] as const)]),
  };
}

/** Renders rows in their platform's shape, loading only what `loaded` does not hold. */
export async function renderRows(
  db: Executor,
  organizationId: string,
  platform: Platform,
  rows: TokenRow[],
  base: ViewBase,
  loaded?: LoadedReferences,
): Promise<TokenView[]> {
  if (rows.length === 0) return [];
  const ctx = await loadViewContext(db, organizationId, platform, rows.map((r) => r.token), base, loaded);
  return rows.map((r) => toTokenView(platform, r, ctx));
}

/** Assignments by precedence: the lowest priority number first, ties in the order given. */
function byPrecedence(token: TokenRecord) {
  return token.policyAssignments.map((a, i) => ({ ...a, i })).sort((x, y) => x.priority - y.priority || x.i - y.i);
}

function emailSummary(row: EmailSummaryRow | null) {
  if (!row) return null;
  return { ...row, status: row.status as 'pending' | 'sent' | 'failed' | 'cancelled' };
}

/** Renders a stored token in its platform's shape: exactly the keys the seed pages print. */
export function toTokenView(platform: Platform, { token, userEmail, email }: TokenRow, ctx: TokenViewContext): TokenView {
  const state = effectiveState(token.state, token.expireAt, ctx.now);
  const updatedAt = shownUpdatedAt(token.state, token.updatedAt, token.expireAt, ctx.now);
  const user = { id: token.mdmUserId, email: userEmail ?? '' };
  // Deleted policies are embedded too: the token was made with them.
  const winPolicy = (id: string) => {
    const row = ctx.policies.get(id);
    return row ? toPolicyView('windows', row, ctx.enterprise.id) : null;
  };
  const admPolicy = (id: string | undefined) => {
    const row = id === undefined ? undefined : ctx.policies.get(id);
    return row ? toPolicyView('apple', row, ctx.enterprise.id) : null;
  };
  const ordered = byPrecedence(token);
  const common = {
    id: token.id,
    mdmUser: { id: user.id, email: user.email },
    displayName: token.displayName,
    tags: token.tags,
    state,
    config: token.config,
    type: token.type,
    subType: token.subType,
    updatedAt: updatedAt.toISOString(),
    createdAt: token.createdAt.toISOString(),
    expireAt: token.expireAt.toISOString(),
    enrollmentLink: enrollmentLink(ctx.publicUrl, token.linkSecret),
    enrollCode: token.enrollCode,
  };
  const summary = { expirationTimestamp: token.expireAt.toISOString(), email: emailSummary(email) };
  if (platform === 'windows') {
    // Key order comes from the response schema, which follows the seed.
    return {
      organizationId: token.organizationId,
      winEnterpriseId: ctx.enterprise.id,
      winDeviceId: token.deviceId,
      ...common,
      winPolicyId: ordered[0]?.policyId ?? null,
      winPolicyAssignments: token.policyAssignments.map((a) => ({ winPolicyId: a.policyId, winPolicy: winPolicy(a.policyId), priority: a.priority })),
      summary,
      sendEmail: token.sendEmail,
      emailText: token.emailText,
      segmentId: token.segmentId,
    } satisfies WinTokenView;
  }
  const vpp = token.vppLocationId ? ctx.vppLocations.get(token.vppLocationId) : undefined;
  return {
    organization: token.organizationId,
    admEnterprise: ctx.enterprise.id,
    admDevice: token.deviceId,
    ...common,
    enroll: {
      serverExpirationDate: ctx.enterprise.serverExpirationDate?.toISOString() ?? null,
      mobileConfigSigned: ctx.enterprise.mobileConfigSigned,
    },
    admPolicy: admPolicy(ordered[0]?.policyId),
    admPolicyAssignments: token.policyAssignments.map((a) => ({ admPolicyId: a.policyId, admPolicy: admPolicy(a.policyId), priority: a.priority })),
    admVppLocation: vpp ? { id: vpp.id, name: vpp.name, config: vpp.config } : null,
    summary,
    profiles: token.profiles,
    applications: token.applications,
    sendEmail: token.sendEmail,
    emailText: token.emailText,
    configuration: token.configuration,
    segmentId: token.segmentId,
  } satisfies AdmTokenView;
}

/** The token as the one it was issued to sees it, in the email and on the enrollment page. */
export function toRecipientToken(token: TokenRecord, organizationName: string, base: { now: Date; publicUrl: string }): RecipientToken {
  return {
    organizationId: token.organizationId,
    organizationName,
    tokenId: token.id,
    platform: token.platform,
    state: effectiveState(token.state, token.expireAt, base.now),
    language: isLanguage(token.language) ? token.language : 'en',
    displayName: token.displayName,
    emailText: token.emailText,
    enrollCode: token.enrollCode,
    expireAt: token.expireAt,
    link: enrollmentLink(base.publicUrl, token.linkSecret),
  };
}

export function toEventView(event: TokenEventRecord): TokenEventView {
  return {
    id: event.id,
    type: event.type as TokenEventView['type'],
    at: event.at.toISOString(),
    actorKeyId: event.actorKeyId,
    changes: event.changes,
  };
}
