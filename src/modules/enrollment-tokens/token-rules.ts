import type { AuthContext } from '../../auth/auth-context.ts';
import type { Executor } from '../../db/client.ts';
import { AppError, notFound } from '../../errors.ts';
import { newId } from '../../lib/ids.ts';
import { randomCode, randomToken } from '../../lib/secrets.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import type { TokenInput, TokenPatch } from './token-input.ts';
import { createTokenReferencesRepo, type MdmUserRecord } from './token-references.repo.ts';
import { DEFAULT_DURATION } from './token.schemas.ts';
import type { DependentRows } from '../../db/bulk-insert.ts';
import { createTokenRepo, type NewTokenRecord, type TokenRecord } from './token.repo.ts';
import type { LoadedReferences } from './token.views.ts';

/** What the transitions check and what they write: one copy, called from token-lifecycle.service.ts. */

/** 25^10 ≈ 9.5e13 codes: collisions among open tokens are rare, and retried when they happen. */
export const ENROLL_CODE_LENGTH = 10;
/** 32 random bytes: 256 bits of secret in every enrollment link. */
const LINK_SECRET_BYTES = 32;

/**
 * Each referenced policy, segment and VPP location must be a live one of the organization
 * (404 otherwise). Returns the policies and locations it read, so the answer needs no second read.
 */
export async function loadReferences(db: Executor, organizationId: string, platform: Platform, input: TokenPatch): Promise<LoadedReferences> {
  const refs = createTokenReferencesRepo(db);
  const loaded: LoadedReferences = { policies: new Map(), vppLocations: new Map() };
  const policyIds = (input.assignments ?? []).map((a) => a.policyId);
  if (policyIds.length > 0) {
    for (const policy of await refs.livePolicies(organizationId, platform, policyIds)) loaded.policies.set(policy.id, policy);
    if (loaded.policies.size !== new Set(policyIds).size) throw notFound();
  }
  if (input.segmentId !== undefined && input.segmentId !== null && !(await refs.segmentExists(organizationId, input.segmentId))) throw notFound();
  if (input.vppLocationId) {
    const location = await refs.liveVppLocation(organizationId, input.vppLocationId);
    if (!location) throw notFound();
    loaded.vppLocations.set(location.id, location);
  }
  return loaded;
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
  const repo = createTokenRepo(db);
  await repo.lockOrganization(auth.organization.id);
  return Math.max(0, cap - (await repo.countOpen(auth.organization.id, now)));
}

/** A new token's row, with every field its creation records (createdChanges) and its webhook shows. */
export type NewTokenRow = NewTokenRecord &
  Pick<TokenRecord, 'id' | 'platform' | 'state' | 'mdmUserId' | 'displayName' | 'tags' | 'language' | 'expireAt' | 'policyAssignments' | 'segmentId' | 'sendEmail' | 'deviceId'>;

export function newTokenRow(
  platform: Platform,
  org: AuthContext['organization'],
  enterpriseId: string,
  user: Pick<MdmUserRecord, 'id' | 'language'>,
  input: TokenInput,
  now: Date,
): NewTokenRow {
  const assignments = input.assignments ?? [];
  return {
    id: newId(),
    organizationId: org.id,
    platform,
    enterpriseId,
    deviceId: null,
    mdmUserId: user.id,
    displayName: input.displayName ?? '',
    tags: input.tags ?? [],
    state: 'PENDING',
    config: {},
    type: PLATFORM_NAMES[platform].tokenType,
    subType: PLATFORM_NAMES[platform].tokenSubType,
    language: input.language ?? user.language ?? org.language ?? 'en',
    sendEmail: input.sendEmail,
    emailText: input.emailText ?? '',
    segmentId: input.segmentId ?? null,
    linkSecret: randomToken(LINK_SECRET_BYTES),
    enrollCode: randomCode(ENROLL_CODE_LENGTH),
    policyAssignments: assignments,
    policyIds: assignments.map((a) => a.policyId),
    vppLocationId: input.vppLocationId ?? null,
    configuration: input.configuration ?? null,
    profiles: input.profiles ?? [],
    applications: input.applications ?? [],
    expireAt: new Date(now.getTime() + (input.duration ?? DEFAULT_DURATION) * 1000),
    doneAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Inserts the rows, drawing new codes and secrets for the few that collide with an open token,
 * and returns the stored rows (RETURNING) in the order given. `dependents` (the tokens' events,
 * emails, deliveries) are written by the same statements, each with its token.
 */
export async function insertTokenRows(db: Executor, platform: Platform, organizationId: string, rows: NewTokenRecord[], dependents: readonly DependentRows[] = []): Promise<TokenRecord[]> {
  const repo = createTokenRepo(db);
  const stored = new Map<string, TokenRecord>();
  let pending = rows;
  for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
    for (const row of await repo.insertMany(organizationId, pending, dependents)) stored.set(row.id, row);
    pending = pending
      .filter((r) => !stored.has(r.id!))
      .map((r) => ({ ...r, enrollCode: randomCode(ENROLL_CODE_LENGTH), linkSecret: randomToken(LINK_SECRET_BYTES) }));
  }
  if (pending.length > 0) throw new AppError(PLATFORM_NAMES[platform].createError);
  return rows.map((r) => stored.get(r.id!)!);
}

/** What the audit trail records of a new token. */
export function createdChanges(token: NewTokenRow): Record<string, unknown> {
  return {
    state: token.state,
    mdmUserId: token.mdmUserId,
    displayName: token.displayName,
    tags: token.tags,
    language: token.language,
    expireAt: token.expireAt.toISOString(),
    policyAssignments: token.policyAssignments,
    segmentId: token.segmentId,
    sendEmail: token.sendEmail,
  };
}

/** The fields a PUT may change, and how each is stored. */
export function patchToColumns(patch: TokenPatch): Partial<NewTokenRecord> {
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
export function updatedChanges(before: TokenRecord, set: Partial<NewTokenRecord>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [key, to] of Object.entries(set)) {
    const from = before[key as keyof TokenRecord];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  }
  return changes;
}
