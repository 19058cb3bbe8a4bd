import { mintApiKey, type ApiKeyRecord, type NewApiKey } from '../../auth/api-key-credentials.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import type { Database } from '../../db/client.ts';
import { AppError, notFound, validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { expandGrants, grantsOfRole, isAllowed, isValidGrant } from '../../permissions.ts';
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

/** The organization's keys through the API; authenticating a key is src/auth/'s job. */
export function createApiKeysService(deps: { database: Database; clock: Clock; onRevoked?: (keyId: string) => void }) {
  const repo = () => createApiKeysRepo(deps.database.db);

  return {
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
      const { secret, row } = mintApiKey(auth.organization.id, input, now);
      const saved = await repo().insert(row);
      return { ...toApiKeyView(saved), key: secret };
    },

    async revoke(auth: AuthContext, id: string): Promise<ApiKeyView> {
      const row = await repo().revoke(auth.organization.id, id.toLowerCase(), deps.clock.now());
      if (!row) throw notFound();
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

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
