import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { enrollmentTokens, mdmUsers, policies } from '../../db/schema.ts';
import type { Platform } from '../../platforms/platforms.ts';
import { recordQueuedCommands, redeemInTransaction, type QueuedCommandNote } from './token-lifecycle.service.ts';
import { effectiveState, storedPending, type TokenState } from './token-state.ts';
import { findTokenByLinkSecret, type TokenRecord } from './token.repo.ts';

/**
 * The face the device protocols (Windows MS-MDE2, Apple MDM and SCEP) see of the token module:
 * find a token from what a device presents, and redeem it inside the protocol's own transaction
 * (with the device row and its certificate), so a failed enrollment leaves the token PENDING.
 */
export interface TokenForDevice {
  organizationId: string;
  platform: Platform;
  tokenId: string;
  /** Effective state at `now`: PENDING past expireAt reads as EXPIRED. */
  state: TokenState;
  /** The MDM user's email, lower-cased as stored. */
  email: string;
  language: string;
  expireAt: Date;
}

/**
 * The open token holding an enrollment code. Codes are unique among PENDING tokens across all
 * organizations (enrollment_tokens_open_code_idx), and the code is the credential, so like the
 * link secret this lookup is not scoped by organization: the organization comes from the row.
 */
export async function findTokenByEnrollCode(db: Executor, enrollCode: string, now: Date): Promise<TokenForDevice | null> {
  const [row] = await db
    .select({ token: enrollmentTokens, email: mdmUsers.email })
    .from(enrollmentTokens)
    .innerJoin(mdmUsers, and(eq(mdmUsers.organizationId, enrollmentTokens.organizationId), eq(mdmUsers.id, enrollmentTokens.mdmUserId)))
    .where(and(eq(enrollmentTokens.enrollCode, enrollCode), storedPending))
    .limit(1);
  if (!row) return null;
  return toTokenForDevice(row.token, row.email, now);
}

/** The token behind an enrollment link's secret, in any state. */
export async function findTokenForDeviceByLinkSecret(db: Executor, linkSecret: string, now: Date): Promise<TokenForDevice | null> {
  const token = await findTokenByLinkSecret(db, linkSecret);
  if (!token) return null;
  const [user] = await db
    .select({ email: mdmUsers.email })
    .from(mdmUsers)
    .where(and(eq(mdmUsers.organizationId, token.organizationId), eq(mdmUsers.id, token.mdmUserId)));
  return toTokenForDevice(token, user?.email ?? '', now);
}

/** What a device identity's token says about it: whether it can still enroll, and to whom it is bound. */
export interface TokenBinding {
  /** Effective state at `now`: PENDING past expireAt reads as EXPIRED. */
  state: TokenState;
  /** The device that redeemed the token, or null. */
  deviceId: string | null;
}

/** The token an identity certificate was issued for, within its organization. */
export async function findTokenBinding(db: Executor, organizationId: string, tokenId: string, now: Date): Promise<TokenBinding | null> {
  const [row] = await db
    .select({ state: enrollmentTokens.state, expireAt: enrollmentTokens.expireAt, deviceId: enrollmentTokens.deviceId })
    .from(enrollmentTokens)
    .where(and(eq(enrollmentTokens.organizationId, organizationId), eq(enrollmentTokens.id, tokenId)))
    .limit(1);
  if (!row) return null;
  return { state: effectiveState(row.state, row.expireAt, now), deviceId: row.deviceId };
}

export type RedeemResult = { ok: true } | { ok: false; state: TokenState | 'NOT_FOUND' };

/**
 * PENDING -> DONE, bound to `deviceId`, with its `redeemed` audit event; in the caller's
 * transaction, through the token lifecycle (token-lifecycle.service.ts). Exactly one of many
 * concurrent redeems of a token wins (one conditional UPDATE). `device` is what the trail
 * records about the device (its ids and name; no secrets).
 */
export async function redeemTokenInTransaction(
  tx: Executor,
  args: { organizationId: string; platform: Platform; tokenId: string; deviceId: string; now: Date; device: Record<string, unknown> },
): Promise<RedeemResult> {
  const outcome = await redeemInTransaction(tx, args);
  return outcome.ok ? { ok: true } : outcome;
}

function toTokenForDevice(token: TokenRecord, email: string, now: Date): TokenForDevice {
  return {
    organizationId: token.organizationId,
    platform: token.platform,
    tokenId: token.id,
    state: effectiveState(token.state, token.expireAt, now),
    email,
    language: token.language,
    expireAt: token.expireAt,
  };
}

export { recordQueuedCommands, type QueuedCommandNote };

/** What a token gives the device that redeemed it: its own profile items, and its policies' by assignment. */
export interface TokenPolicies {
  tokenId: string;
  /** The device that redeemed the token, or null. */
  deviceId: string | null;
  /** The token's own profile items (Apple), as stored. */
  profiles: Record<string, unknown>[];
  /** Each assigned policy's platform fields (`details`: Apple's profiles, ...), with its priority. */
  assignments: { policyId: string; priority: number; details: Record<string, unknown> }[];
}

/**
 * The policies of tokens, read in the caller's transaction: for the commands of a redemption,
 * and for what a policy's change means to the devices of the tokens it is assigned to. A
 * deleted policy still counts: tokens keep embedding it (policies.service.ts `remove`).
 */
export async function tokenPolicies(db: Executor, organizationId: string, platform: Platform, tokenIds: string[]): Promise<TokenPolicies[]> {
  if (tokenIds.length === 0) return [];
  const tokens = await db
    .select({ id: enrollmentTokens.id, deviceId: enrollmentTokens.deviceId, profiles: enrollmentTokens.profiles, assignments: enrollmentTokens.policyAssignments })
    .from(enrollmentTokens)
    .where(and(eq(enrollmentTokens.organizationId, organizationId), eq(enrollmentTokens.platform, platform), inArray(enrollmentTokens.id, tokenIds)));
  const policyIds = [...new Set(tokens.flatMap((t) => t.assignments.map((a) => a.policyId)))];
  const rows =
    policyIds.length === 0
      ? []
      : await db
          .select({ id: policies.id, details: policies.details })
          .from(policies)
          .where(and(eq(policies.organizationId, organizationId), eq(policies.platform, platform), inArray(policies.id, policyIds)));
  const details = new Map(rows.map((r) => [r.id, r.details]));
  return tokens.map((t) => ({
    tokenId: t.id,
    deviceId: t.deviceId,
    profiles: t.profiles,
    assignments: t.assignments.flatMap((a) => {
      const d = details.get(a.policyId);
      return d ? [{ policyId: a.policyId, priority: a.priority, details: d }] : [];
    }),
  }));
}

/** The tokens of a platform that assign a policy and enrolled a device (the policy filter's index). */
export async function redeemedTokensOfPolicy(db: Executor, organizationId: string, platform: Platform, policyId: string): Promise<string[]> {
  const rows = await db
    .select({ id: enrollmentTokens.id })
    .from(enrollmentTokens)
    .where(
      and(
        eq(enrollmentTokens.organizationId, organizationId),
        eq(enrollmentTokens.platform, platform),
        eq(enrollmentTokens.state, 'DONE'),
        sql`${enrollmentTokens.policyIds} @> array[${policyId}]::text[]`,
      ),
    );
  return rows.map((r) => r.id);
}

/** One of a token's policy assignments with what its policy carries, for planning a device's commands. */
export interface AssignedPolicy {
  policyId: string;
  priority: number;
  details: Record<string, unknown>;
}

/** The token's assignments whose policies are live (a deleted policy sends nothing), in the caller's transaction. */
export async function assignedPoliciesInTransaction(tx: Executor, organizationId: string, tokenId: string): Promise<AssignedPolicy[]> {
  const [token] = await tx
    .select({ assignments: enrollmentTokens.policyAssignments })
    .from(enrollmentTokens)
    .where(and(eq(enrollmentTokens.organizationId, organizationId), eq(enrollmentTokens.id, tokenId)))
    .limit(1);
  return livePoliciesOf(tx, organizationId, token?.assignments ?? []);
}

/** Assignments (a token's, now or before a change) with what their live policies carry; a deleted policy sends nothing. */
export async function livePoliciesOf(tx: Executor, organizationId: string, assignments: readonly { policyId: string; priority: number }[]): Promise<AssignedPolicy[]> {
  if (assignments.length === 0) return [];
  const rows = await tx
    .select({ id: policies.id, details: policies.details })
    .from(policies)
    .where(and(eq(policies.organizationId, organizationId), inArray(policies.id, assignments.map((a) => a.policyId)), isNull(policies.deletedAt)));
  const details = new Map(rows.map((r) => [r.id, r.details]));
  return assignments.flatMap((a) => {
    const d = details.get(a.policyId);
    return d ? [{ policyId: a.policyId, priority: a.priority, details: d }] : [];
  });
}
