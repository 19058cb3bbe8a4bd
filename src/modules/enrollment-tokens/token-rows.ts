import { AppError } from '../../errors.ts';
import { newId } from '../../lib/ids.ts';
import { randomCode, randomToken } from '../../lib/secrets.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import type { OrganizationRecord } from '../organizations/organizations.repo.ts';
import type { TokenInput } from './token-input.ts';
import type { MdmUserRecord } from './token-references.repo.ts';
import { createTokensRepo, type NewTokenRecord, type TokenRecord } from './token.repo.ts';
import { DEFAULT_DURATION } from './token.schemas.ts';
import type { Executor } from '../../db/client.ts';

/** 25^10 ≈ 9.5e13 codes: collisions among open tokens are rare, and retried when they happen. */
export const ENROLL_CODE_LENGTH = 10;
/** 32 random bytes: 256 bits of secret in every enrollment link. */
const LINK_SECRET_BYTES = 32;

export function newTokenRow(
  platform: Platform,
  org: OrganizationRecord,
  enterpriseId: string,
  user: Pick<MdmUserRecord, 'id' | 'language'>,
  input: TokenInput,
  now: Date,
): NewTokenRecord {
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
 * and returns the stored rows in the order given.
 */
export async function insertTokenRows(db: Executor, platform: Platform, organizationId: string, rows: NewTokenRecord[]): Promise<TokenRecord[]> {
  const repo = createTokensRepo(db);
  const stored = new Map<string, TokenRecord>();
  let pending = rows;
  for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
    for (const row of await repo.insertMany(organizationId, pending)) stored.set(row.id, row);
    pending = pending
      .filter((r) => !stored.has(r.id!))
      .map((r) => ({ ...r, enrollCode: randomCode(ENROLL_CODE_LENGTH), linkSecret: randomToken(LINK_SECRET_BYTES) }));
  }
  if (pending.length > 0) throw new AppError(PLATFORM_NAMES[platform].createError);
  return rows.map((r) => stored.get(r.id!)!);
}

/** What the audit trail records of a new token. */
export function createdChanges(token: TokenRecord): Record<string, unknown> {
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
