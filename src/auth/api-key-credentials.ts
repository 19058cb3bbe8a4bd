import type { apiKeys } from '../db/schema.ts';
import { newId } from '../lib/ids.ts';
import { randomToken, sha256 } from '../lib/secrets.ts';
import { grantsOfRole, ROLES, type Role } from '../permissions.ts';
import { CHECK_LENGTH, type CredentialCheck } from './credential-check.ts';

export type ApiKeyRecord = typeof apiKeys.$inferSelect;

export const KEY_PREFIX = 'ork_';
/** Characters of the key kept in clear for display and lookup ("ork_" + 8). */
export const DISPLAY_PREFIX_LENGTH = 12;
/**
 * A key is "ork_", 43 characters of randomness (32 bytes, base64url), then the server's check of
 * those 47 (credential-check.ts): 69 characters. Keys made before the check existed are the
 * first 47 alone; they still work, but only a key with a check is told from a guess without the
 * database (plugins/api-rate-limit.ts).
 */
const KEY_BODY_LENGTH = KEY_PREFIX.length + 43;
export const KEY_LENGTH = KEY_BODY_LENGTH + CHECK_LENGTH;

/** The shape of a key: anything else is refused without a lookup. */
export function looksLikeKey(secret: string): boolean {
  return secret.startsWith(KEY_PREFIX) && secret.length >= DISPLAY_PREFIX_LENGTH && secret.length <= 256;
}

/**
 * Whether the key has the length of a key with a check: such a key is valid only with a valid
 * check, while a key of any other length may be one made before checks (looked up as it was).
 */
export function hasCheckLength(secret: string): boolean {
  return secret.length === KEY_LENGTH && secret.startsWith(KEY_PREFIX);
}

/** Whether the key carries this server's valid check: it was minted here, not guessed. */
export function checkHolds(check: CredentialCheck, secret: string): boolean {
  return hasCheckLength(secret) && check.verify('api-key', secret.slice(0, KEY_BODY_LENGTH), secret.slice(KEY_BODY_LENGTH));
}

export interface NewApiKey {
  name: string;
  role?: Role | undefined;
  permissions?: string[] | undefined;
  expiresAt?: Date | undefined;
}

/** What a key may do: its role's grants, or the explicit list it was made with. */
export function grantsOf(key: ApiKeyRecord): readonly string[] {
  return key.role && (ROLES as readonly string[]).includes(key.role) ? grantsOfRole(key.role as Role) : key.permissions;
}

/** Builds a key row and its secret; the secret leaves this function once and is never stored. */
export function mintApiKey(organizationId: string, input: NewApiKey, now: Date, check: CredentialCheck): { secret: string; row: ApiKeyRecord } {
  const body = KEY_PREFIX + randomToken(32);
  const secret = body + check.seal('api-key', body);
  const row: ApiKeyRecord = {
    id: newId(),
    organizationId,
    name: input.name,
    prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH),
    keyHash: sha256(secret),
    role: input.role ?? null,
    permissions: input.role ? [] : (input.permissions ?? []),
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    createdAt: now,
  };
  return { secret, row };
}
