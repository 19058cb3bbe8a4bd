import type { apiKeys } from '../db/schema.ts';
import { newId } from '../lib/ids.ts';
import { randomToken, sha256 } from '../lib/secrets.ts';
import { grantsOfRole, ROLES, type Role } from '../permissions.ts';

export type ApiKeyRecord = typeof apiKeys.$inferSelect;

export const KEY_PREFIX = 'ork_';
/** Characters of the key kept in clear for display and lookup ("ork_" + 8). */
export const DISPLAY_PREFIX_LENGTH = 12;

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
export function mintApiKey(organizationId: string, input: NewApiKey, now: Date): { secret: string; row: ApiKeyRecord } {
  const secret = KEY_PREFIX + randomToken(32);
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
