import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { AuthContext } from '../auth/auth-context.ts';
import { csrfTokensEqual, type ConsoleSessionsService, type SessionAuth } from './console-sessions.service.ts';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One cookie of a Cookie header (RFC 6265 section 5.4: `name=value` pairs split by `; `). */
export function readCookie(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** Refusals of cross-site requests say why in `error.data.reason` (403 4003). */
function crossSite(reason: string): AppError {
  return new AppError('FORBIDDEN', { data: { reason } });
}

/**
 * The console's session cookie seen from HTTP: its name and flags, and the checks that make a
 * cookie-authenticated request safe against other sites (SameSite=Strict first, then the Origin
 * and Sec-Fetch-Site headers, then a CSRF token only the console's own pages can read).
 */
export function createSessionAuthenticator(sessions: ConsoleSessionsService, publicUrl: string) {
  const secure = publicUrl.startsWith('https:');
  // __Host- makes the browser refuse the cookie unless it is Secure, for Path=/ and this host only.
  const cookieName = secure ? '__Host-openroll_session' : 'openroll_session';
  const publicOrigin = new URL(publicUrl).origin;

  const cookieOf = (request: FastifyRequest): string | undefined => {
    const header = request.headers.cookie;
    if (!header) return undefined;
    return readCookie(header, cookieName) || undefined;
  };

  /**
   * A browser names the page's origin on every state-changing request; it must be this server,
   * as the public URL names it or as the Host header reached it (a laptop on 127.0.0.1).
   */
  const assertSameOrigin = (request: FastifyRequest): void => {
    const site = request.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') throw crossSite('cross-site request');
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const host = request.headers.host;
    const allowed = origin === publicOrigin || (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`));
    if (!allowed) throw crossSite('origin not allowed');
  };

  const assertCsrf = (request: FastifyRequest, expected: string): void => {
    if (SAFE_METHODS.has(request.method)) return;
    assertSameOrigin(request);
    const given = request.headers[CSRF_HEADER];
    if (typeof given !== 'string' || !csrfTokensEqual(expected, given)) throw crossSite('missing or wrong CSRF token');
  };

  // The value is hex, base64url and a dot: nothing to encode.
  const serialize = (value: string, maxAgeSeconds: number) =>
    `${cookieName}=${value}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly;${secure ? ' Secure;' : ''} SameSite=Strict`;

  return {
    cookieName,

    /** The session of a console route: 401 4002 without the cookie. */
    async session(request: FastifyRequest): Promise<SessionAuth & { cookieValue: string }> {
      const cookieValue = cookieOf(request);
      if (!cookieValue) throw new AppError('NO_AUTH_TOKEN');
      const found = await sessions.authenticate(cookieValue);
      assertCsrf(request, found.csrfToken);
      return { ...found, cookieValue };
    },

    /** For the /v1 auth hook: the session's caller, or undefined when the request has no cookie. */
    async authenticate(request: FastifyRequest): Promise<AuthContext | undefined> {
      const cookieValue = cookieOf(request);
      if (!cookieValue) return undefined;
      const found = await sessions.authenticate(cookieValue);
      assertCsrf(request, found.csrfToken);
      return found.auth;
    },

    /** Whether the request's session cookie carries this server's valid check (no database). */
    isChecked(request: FastifyRequest): boolean {
      const cookieValue = cookieOf(request);
      return cookieValue !== undefined && sessions.isChecked(cookieValue);
    },

    assertSameOrigin,

    setCookie(reply: FastifyReply, value: string, maxAgeSeconds: number): void {
      reply.header('set-cookie', serialize(value, maxAgeSeconds));
    },

    clearCookie(reply: FastifyReply): void {
      reply.header('set-cookie', serialize('', 0));
    },
  };
}

export type SessionAuthenticator = ReturnType<typeof createSessionAuthenticator>;
