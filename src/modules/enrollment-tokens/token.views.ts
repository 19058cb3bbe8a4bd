import type { Static } from 'typebox';
import type { Executor } from '../../db/client.ts';
import type { Platform } from '../../platforms/platforms.ts';
import { toPolicyView } from '../policies/policies.views.ts';
import { createTokenReferencesRepo, type EnterpriseRecord, type PolicyRecord, type VppLocationRecord } from './token-references.repo.ts';
import { effectiveState } from './token-state.ts';
import type { EmailSummaryRow, TokenRecord, TokenRow } from './token.repo.ts';
import type { AdmToken, TokenEvent, WinToken } from './token.schemas.ts';
import type { TokenEventRecord } from './token-events.repo.ts';

export type WinTokenView = Static<typeof WinToken>;
export type AdmTokenView = Static<typeof AdmToken>;
export type TokenView = WinTokenView | AdmTokenView;
export type TokenEventView = Static<typeof TokenEvent>;

/** What a page of tokens references beyond its rows, loaded once for the page. */
export interface TokenViewContext {
  now: Date;
  publicUrl: string;
  enterprise: EnterpriseRecord;
  policies: Map<string, PolicyRecord>;
  vppLocations: Map<string, VppLocationRecord>;
}

export function enrollmentLink(publicUrl: string, linkSecret: string): string {
  return `${publicUrl}/enroll/${linkSecret}`;
}

export async function loadViewContext(
  db: Executor,
  organizationId: string,
  platform: Platform,
  rows: TokenRow[],
  base: { now: Date; publicUrl: string },
): Promise<TokenViewContext> {
  const refs = createTokenReferencesRepo(db);
  const policyIds = [...new Set(rows.flatMap((r) => r.token.policyAssignments.map((a) => a.policyId)))];
  const vppIds = [...new Set(rows.flatMap((r) => (r.token.vppLocationId ? [r.token.vppLocationId] : [])))];
  const [enterprise, policies, vpp] = await Promise.all([
    refs.enterprise(organizationId, platform),
    refs.policiesByIds(organizationId, policyIds),
    refs.vppLocationsByIds(organizationId, vppIds),
  ]);
  if (!enterprise) throw new Error(`organization ${organizationId} has no ${platform} enterprise`);
  return {
    ...base,
    enterprise,
    policies: new Map(policies.map((p) => [p.id, p])),
    vppLocations: new Map(vpp.map((v) => [v.id, v])),
  };
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
  // A token that expired unswept reads as if the sweep had run at expireAt.
  const updatedAt = state === 'EXPIRED' && token.state === 'PENDING' ? token.expireAt : token.updatedAt;
  const user = { id: token.mdmUserId, email: userEmail ?? '' };
  const policy = (id: string) => {
    const row = ctx.policies.get(id);
    return row ? toPolicyView(platform, row, ctx.enterprise.id) : null;
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
      winPolicyAssignments: token.policyAssignments.map((a) => ({ winPolicyId: a.policyId, winPolicy: policy(a.policyId), priority: a.priority })),
      summary,
      sendEmail: token.sendEmail,
      emailText: token.emailText,
      segmentId: token.segmentId,
    } as WinTokenView;
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
    admPolicy: ordered[0] ? policy(ordered[0].policyId) : null,
    admPolicyAssignments: token.policyAssignments.map((a) => ({ admPolicyId: a.policyId, admPolicy: policy(a.policyId), priority: a.priority })),
    admVppLocation: vpp ? { id: vpp.id, name: vpp.name, config: vpp.config } : null,
    summary,
    profiles: token.profiles,
    applications: token.applications,
    sendEmail: token.sendEmail,
    emailText: token.emailText,
    configuration: token.configuration,
    segmentId: token.segmentId,
  } as AdmTokenView;
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
