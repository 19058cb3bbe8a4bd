import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { DateTime, ok, withErrors } from '../lib/schemas.ts';
import type { ConsoleSessionsService } from './console-sessions.service.ts';
import type { SessionAuthenticator } from './session-auth.ts';

const SessionView = Type.Object({
  organization: Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String() }),
  key: Type.Object({ id: Type.String(), name: Type.String(), prefix: Type.String() }),
  permissions: Type.Array(Type.String()),
  csrfToken: Type.String(),
  expiresAt: DateTime,
  idleTimeoutSeconds: Type.Integer(),
});

// The console's own routes: not part of the public API, so hidden from the OpenAPI document.
const signInSchema = {
  hide: true,
  body: Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
  response: withErrors({ 200: ok(SessionView) }),
};
const sessionSchema = { hide: true, response: withErrors({ 200: ok(SessionView) }) };
const signOutSchema = { hide: true, response: withErrors({ 200: ok(Type.Object({ signedOut: Type.Boolean() })) }) };

export interface ConsoleSessionRoutesOptions {
  sessions: ConsoleSessionsService;
  authenticator: SessionAuthenticator;
  /** Sign-in attempts per minute and client address; 0 turns the limit off. */
  signInsPerMinute: number;
  /** Whether a key carries the server's valid check and has not failed (auth/authenticator.ts `isChecked`). */
  isCheckedKey: (key: string) => boolean;
}

/** Sign-in (an API key for a session cookie), the session's own view, and sign-out. */
export const consoleSessionRoutes: FastifyPluginAsyncTypebox<ConsoleSessionRoutesOptions> = async (app, { sessions, authenticator, signInsPerMinute, isCheckedKey }) => {
  const path = '/console/api/session';
  const signInLimit =
    signInsPerMinute > 0
      ? app.rateLimit({
          max: signInsPerMinute,
          timeWindow: 60_000,
          keyGenerator: (request) => `console-sign-in:${request.ip}`,
          // A key this server minted is no guess: another browser's bad keys from the same address
          // do not keep it out. It is read from the body, so the limit runs once the body is parsed.
          allowList: (request) => isCheckedKey((request.body as { key: string }).key),
          errorResponseBuilder: () => new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': '60' } }),
        })
      : undefined;

  app.post(path, { schema: signInSchema, bodyLimit: 4096, ...(signInLimit ? { preHandler: signInLimit } : {}) }, async (request, reply) => {
    // Another site must not sign a browser in to an account of its choosing either.
    authenticator.assertSameOrigin(request);
    const { cookieValue, view, maxAgeSeconds } = await sessions.signIn(request.body.key);
    authenticator.setCookie(reply, cookieValue, maxAgeSeconds);
    reply.header('cache-control', 'no-store');
    return { status: true as const, data: view };
  });

  app.get(path, { schema: sessionSchema }, async (request, reply) => {
    const { view } = await authenticator.session(request);
    reply.header('cache-control', 'no-store');
    return { status: true as const, data: view };
  });

  app.delete(path, { schema: signOutSchema }, async (request, reply) => {
    const { cookieValue } = await authenticator.session(request);
    await sessions.signOut(cookieValue);
    authenticator.clearCookie(reply);
    return { status: true as const, data: { signedOut: true } };
  });
};
