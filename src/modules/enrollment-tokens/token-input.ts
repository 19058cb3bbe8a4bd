import type { StoredAssignment } from '../../db/schema.ts';
import { validationError, type FieldError } from '../../errors.ts';
import type { Language } from '../../lib/languages.ts';
import { checkMobileconfigs } from '../../lib/mobileconfig.ts';
import type { TokenBulkBody, TokenCreateBody, TokenUpdateBody } from './token.schemas.ts';

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

type AnyBody = TokenCreateBody | TokenBulkBody | TokenUpdateBody;

/**
 * The legacy single policy means one assignment at priority 0; a policy may appear once.
 * When the legacy id is also among the assignments, the assignment's priority wins. Each
 * platform's schema admits only its own names, so the names present tell the platform.
 */
function assignmentsOf(body: AnyBody): StoredAssignment[] | undefined {
  if ('winPolicyId' in body || 'winPolicyAssignments' in body) {
    const list = (body.winPolicyAssignments ?? []).map((a) => ({ policyId: a.winPolicyId, priority: a.priority }));
    return mergeAssignments(body.winPolicyId, list, 'body.winPolicyAssignments', 'winPolicyId');
  }
  if ('policyId' in body || 'admPolicyAssignments' in body) {
    const list = (body.admPolicyAssignments ?? []).map((a) => ({ policyId: a.admPolicyId, priority: a.priority }));
    return mergeAssignments(body.policyId, list, 'body.admPolicyAssignments', 'admPolicyId');
  }
  return undefined;
}

function mergeAssignments(legacy: string | null | undefined, list: StoredAssignment[], path: string, idKey: string): StoredAssignment[] {
  const errors: FieldError[] = [];
  const out: StoredAssignment[] = [];
  const seen = new Set<string>();
  for (const [i, a] of list.entries()) {
    const policyId = a.policyId.toLowerCase();
    if (seen.has(policyId)) errors.push({ path: `${path}.${i}.${idKey}`, message: 'is assigned more than once' });
    seen.add(policyId);
    out.push({ policyId, priority: a.priority });
  }
  if (errors.length) throw validationError(errors);
  if (legacy && !seen.has(legacy.toLowerCase())) out.unshift({ policyId: legacy.toLowerCase(), priority: 0 });
  return out;
}

/** The fields only Apple's bodies carry. */
function appleFieldsOf(body: AnyBody): Pick<TokenInput, 'vppLocationId' | 'configuration' | 'profiles' | 'applications'> {
  if (!('admVppLocationId' in body || 'configuration' in body || 'profiles' in body || 'applications' in body)) return {};
  checkMobileconfigs(body.profiles, 'body.profiles');
  return { vppLocationId: body.admVppLocationId?.toLowerCase() ?? body.admVppLocationId, configuration: body.configuration, profiles: body.profiles, applications: body.applications };
}

/** Keeps only the keys the body set: an update changes exactly those. */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Maps a validated create or bulk body, of either platform, to the core's input. */
export function toTokenInput(body: TokenCreateBody | TokenBulkBody): TokenInput {
  const { sendEmail, displayName, tags, duration, language, emailText, segmentId } = body;
  return definedOnly({ sendEmail, displayName, tags, duration, language, emailText, segmentId, assignments: assignmentsOf(body), ...appleFieldsOf(body) });
}

/** Maps a validated update body, of either platform, to the core's patch. */
export function toTokenPatch(body: TokenUpdateBody): TokenPatch {
  const { displayName, tags, segmentId } = body;
  return definedOnly({ displayName, tags, segmentId, assignments: assignmentsOf(body), ...appleFieldsOf(body) });
}

/** Joi's `insensitive` boolean: "true"/"false" in any case become booleans before validation. */
export function normalizeSendEmail(body: unknown): void {
  if (body && typeof body === 'object' && !Array.isArray(body) && 'sendEmail' in body) {
    if (typeof body.sendEmail === 'string' && /^(true|false)$/i.test(body.sendEmail)) body.sendEmail = body.sendEmail.toLowerCase() === 'true';
  }
}
