import { grantsOf, mintApiKey, type ApiKeyRecord, type NewApiKey } from '../../auth/api-key-credentials.ts';
import type { CredentialCheck } from '../../auth/credential-check.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import type { Database, Executor } from '../../db/client.ts';
import { AppError, notFound, validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { expandGrants, grantsOfRole, isAllowed, isValidGrant, PERMISSIONS } from '../../permissions.ts';
import { createApiKeysRepo } from './api-keys.repo.ts';

export interface ApiKeyView {
  id: string;
  organizationId: string;
  name: string;
  prefix: string;
  role: string | null;
  permissions: string[];
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

export function toApiKeyView(key: ApiKeyRecord): ApiKeyView {
  return {
    id: key.id,
    organizationId: key.organizationId,
    name: key.name,
    prefix: key.prefix,
    role: key.role,
    permissions: key.permissions,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    createdAt: key.createdAt.toISOString(),
  };
}

/** An admin key: one whose grants cover every permission (role admin, or `*`). */
export function isAdminKey(key: ApiKeyRecord): boolean {
  return expandGrants(grantsOf(key)).length === PERMISSIONS.length;
}

/** How many keys of the organization could still administer it (admin, not revoked, not expired). */
export async function liveAdminKeys(db: Executor, organizationId: string, now: Date): Promise<ApiKeyRecord[]> {
  return (await createApiKeysRepo(db).listLive(organizationId, now)).filter(isAdminKey);
}

/** The organization's keys through the API; authenticating a key is src/auth/'s job. */
export function createApiKeysService(deps: { database: Database; clock: Clock; check: CredentialCheck; onRevoked?: (keyId: string) => void }) {
  const repo = () => createApiKeysRepo(deps.database.db);

  return {
    /** The caller's own key as stored (the console shows its name and prefix); undefined once deleted. */
    async callerKey(auth: AuthContext): Promise<ApiKeyRecord | undefined> {
      return repo().get(auth.organization.id, auth.keyId);
    },

    async list(auth: AuthContext, page: PageRequest): Promise<Page<ApiKeyView>> {
      const { items, total } = await repo().list(auth.organization.id, page);
      return toPage(items.map(toApiKeyView), total, page);
    },

    /**
     * Creates a key of the caller's organization. A key can only pass on permissions it holds
     * itself, so an API-key manager cannot mint an admin key.
     */
    async create(auth: AuthContext, input: NewApiKey): Promise<ApiKeyView & { key: string }> {
      const now = deps.clock.now();
      checkNewKey(input, now);
      const requested = input.role ? grantsOfRole(input.role) : (input.permissions ?? []);
      const beyond = expandGrants(requested).filter((p) => !isAllowed(auth.grants, p));
      if (beyond.length > 0) throw new AppError('FORBIDDEN', { data: { permissions: beyond } });
      const creator = await repo().get(auth.organization.id, auth.keyId);
      checkOutlives(input.expiresAt, creator?.expiresAt ?? null);
      const { secret, row } = mintApiKey(auth.organization.id, input, now, deps.check);
      const saved = await repo().insert(row);
      return { ...toApiKeyView(saved), key: secret };
    },

    /**
     * Revokes a key of the caller's organization. The caller must hold every permission the
     * key holds (revoking is as strong as creating), and the organization's last live admin key
     * stays: without it nobody could manage keys through the API again (the operator's command
     * line still can revoke it).
     */
    async revoke(auth: AuthContext, id: string): Promise<ApiKeyView> {
      const now = deps.clock.now();
      const org = auth.organization.id;
      const row = await deps.database.db.transaction(async (tx) => {
        const keys = createApiKeysRepo(tx);
        // Two revokes of the last two admin keys would each see the other one still live.
        await keys.lockOrganization(org);
        const target = await keys.get(org, id.toLowerCase());
        if (!target) throw notFound();
        const beyond = expandGrants(grantsOf(target)).filter((p) => !isAllowed(auth.grants, p));
        if (beyond.length > 0) throw new AppError('FORBIDDEN', { data: { permissions: beyond } });
        const admins = await liveAdminKeys(tx, org, now);
        if (admins.length === 1 && admins[0]!.id === target.id) {
          throw new AppError('CONFLICT', {
            message: "The organization's last admin key cannot be revoked: create another admin key first",
            data: { reason: 'last-admin-key' },
          });
        }
        return (await keys.revoke(org, target.id, now))!;
      });
      deps.onRevoked?.(row.id);
      return toApiKeyView(row);
    },
  };
}

/** Rules shared by the API and the command line for a new key. */
export function checkNewKey(input: NewApiKey, now: Date): void {
  const errors = [];
  if (input.role && input.permissions) errors.push({ path: 'body.permissions', message: 'cannot be given with role' });
  if (!input.role && (!input.permissions || input.permissions.length === 0)) {
    errors.push({ path: 'body.role', message: 'is required unless permissions are given' });
  }
  for (const [i, p] of (input.permissions ?? []).entries()) {
    if (!isValidGrant(p)) errors.push({ path: `body.permissions.${i}`, message: `is not a known permission: ${p}` });
  }
  if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
    errors.push({ path: 'body.expiresAt', message: 'must be in the future' });
  }
  if (errors.length) throw validationError(errors);
}

/**
 * A key never outlives the key that creates it: a key that expires cannot mint one that does
 * not, nor one that expires later (a leaked short-lived key would otherwise buy a permanent one).
 * The request is refused rather than shortened, so the caller sees the expiry it will get.
 */
export function checkOutlives(requested: Date | undefined, creatorExpiresAt: Date | null): void {
  if (!creatorExpiresAt) return;
  const limit = creatorExpiresAt.toISOString();
  if (!requested) {
    throw validationError([{ path: 'body.expiresAt', message: `is required: the key creating it expires at ${limit}, and a key cannot outlive its creator` }]);
  }
  if (requested.getTime() > creatorExpiresAt.getTime()) {
    throw validationError([{ path: 'body.expiresAt', message: `must not be later than ${limit}, when the key creating it expires` }]);
  }
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
