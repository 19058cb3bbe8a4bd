import type { StoredAssignment } from '../../db/schema.ts';
import { validationError, type FieldError } from '../../errors.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import type { Language } from './token.schemas.ts';

/** A create, bulk or update body with the platform's names mapped to the core's. */
export interface TokenInput {
  sendEmail: boolean;
  displayName?: string;
  tags?: string[];
  duration?: number;
  language?: Language;
  emailText?: string;
  segmentId?: number | null;
  /** Present when the body set the policy fields at all; then it replaces the assignments. */
  assignments?: StoredAssignment[];
  vppLocationId?: string | null;
  configuration?: Record<string, unknown> | null;
  profiles?: Record<string, unknown>[];
  applications?: Record<string, unknown>[];
}

export type TokenPatch = Omit<TokenInput, 'sendEmail' | 'duration' | 'language' | 'emailText'>;

type Body = Record<string, unknown>;

/**
 * The legacy single policy means one assignment at priority 0; a policy may appear once.
 * When the legacy id is also among the assignments, the assignment's priority wins.
 */
function assignmentsOf(platform: Platform, body: Body): StoredAssignment[] | undefined {
  const n = PLATFORM_NAMES[platform];
  const legacy = body[n.legacyPolicyIdKey] as string | null | undefined;
  const list = body[n.assignmentsKey] as Array<Record<string, unknown>> | undefined;
  if (legacy === undefined && list === undefined) return undefined;
  const errors: FieldError[] = [];
  const out: StoredAssignment[] = [];
  const seen = new Set<string>();
  for (const [i, a] of (list ?? []).entries()) {
    const policyId = String(a[n.assignmentPolicyIdKey]).toLowerCase();
    if (seen.has(policyId)) errors.push({ path: `body.${n.assignmentsKey}.${i}.${n.assignmentPolicyIdKey}`, message: 'is assigned more than once' });
    seen.add(policyId);
    out.push({ policyId, priority: a.priority as number });
  }
  if (errors.length) throw validationError(errors);
  if (legacy && !seen.has(legacy.toLowerCase())) out.unshift({ policyId: legacy.toLowerCase(), priority: 0 });
  return out;
}

function lower(id: unknown): string | null | undefined {
  return typeof id === 'string' ? id.toLowerCase() : (id as null | undefined);
}

function copyDefined<T extends object>(target: T, source: Partial<T>): T {
  for (const [k, v] of Object.entries(source)) if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  return target;
}

/** Maps a validated body of the platform's shape to the core's input. */
export function toTokenInput(platform: Platform, body: Body): TokenInput {
  return copyDefined({ sendEmail: body.sendEmail as boolean } as TokenInput, {
    displayName: body.displayName as string | undefined,
    tags: body.tags as string[] | undefined,
    duration: body.duration as number | undefined,
    language: body.language as Language | undefined,
    emailText: body.emailText as string | undefined,
    segmentId: body.segmentId as number | null | undefined,
    assignments: assignmentsOf(platform, body),
    vppLocationId: lower(body.admVppLocationId),
    configuration: body.configuration as Record<string, unknown> | null | undefined,
    profiles: body.profiles as Record<string, unknown>[] | undefined,
    applications: body.applications as Record<string, unknown>[] | undefined,
  });
}

export function toTokenPatch(platform: Platform, body: Body): TokenPatch {
  const { sendEmail: _ignored, ...patch } = toTokenInput(platform, { ...body, sendEmail: false });
  return patch;
}

/** Joi's `insensitive` boolean: "true"/"false" in any case become booleans before validation. */
export function normalizeSendEmail(body: unknown): void {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Body;
    if (typeof b.sendEmail === 'string' && /^(true|false)$/i.test(b.sendEmail)) b.sendEmail = b.sendEmail.toLowerCase() === 'true';
  }
}
