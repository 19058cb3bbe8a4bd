import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { AuthContext } from '../auth/auth-context.ts';
import { isAllowed, type Permission } from '../permissions.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission the route requires; routes without one are public. */
    permission?: Permission;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** The caller of an authenticated route; the auth hook guarantees it is there. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new AppError('NO_AUTH_TOKEN');
  return request.auth;
}

/** The key of an `Authorization: Bearer <key>` header; undefined when there is none. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header.trim().replace(/^Bearer(\s+|$)/i, '').trim();
  return value || undefined;
}

/**
 * Runs before body parsing and validation so that the order of CONTRACT.md section 2 holds:
 * 401 for the key, then 404 for an organization that is not the key's, then 403.
 */
export function registerAuth(
  app: FastifyInstance,
  authenticate: (secret: string) => Promise<AuthContext>,
  /** The admin console's session cookie, accepted in place of a bearer (src/console/session-auth.ts). */
  session?: (request: FastifyRequest) => Promise<AuthContext | undefined>,
): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    if (!permission) return;
    const secret = bearer(request.headers.authorization);
    const auth = secret ? await authenticate(secret) : await session?.(request);
    if (!auth) throw new AppError('NO_AUTH_TOKEN');
    const orgParam = (request.params as { organizationId?: string }).organizationId;
    if (orgParam !== undefined) {
      const org = auth.organization;
      if (orgParam.toLowerCase() !== org.id && orgParam !== org.slug) throw new AppError('NOT_FOUND');
    }
    if (!isAllowed(auth.grants, permission)) throw new AppError('FORBIDDEN');
    request.auth = auth;
  });
}
