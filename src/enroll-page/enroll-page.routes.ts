import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { NO_ORGANIZATION } from '../limits/counter-store.ts';
import { addressBucket, limitKey } from '../limits/rate-limit-store.ts';
import type { EnrollPageService } from './enroll-page.service.ts';
import { renderEnrollPage, type EnrollPageInput } from './enroll-page.view.ts';
import { FAVICON_ICO } from './favicon.ts';

export interface EnrollPageRoutesOptions {
  pages: EnrollPageService;
  /** Wrong links a client may try in the window before it gets 429 pages. */
  wrongLinkLimit: { max: number; timeWindowMs: number };
}

const STATUS: { [K in EnrollPageInput['kind']]: number } = {
  pending: 200,
  expired: 410,
  used: 410,
  revoked: 410,
  'not-found': 404,
  'rate-limited': 429,
};

function sendPage(reply: FastifyReply, input: EnrollPageInput): FastifyReply {
  return reply
    .code(STATUS[input.kind as keyof typeof STATUS])
    .header('content-type', 'text/html; charset=utf-8')
    // The URL carries the secret: never cache it, never leak it to other sites as a referrer.
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex')
    .send(renderEnrollPage(input));
}

/** The page behind every enrollment link: public, found by the link's secret alone. */
export const enrollPageRoutes: FastifyPluginAsyncTypebox<EnrollPageRoutesOptions> = async (app, { pages, wrongLinkLimit }) => {
  // Counts only failed lookups, so guessing links is slow while real users are never limited.
  // Per client address (the forwarded one behind a trusted proxy), shared by every process.
  const countWrongLink = app.createRateLimit({
    max: wrongLinkLimit.max,
    timeWindow: wrongLinkLimit.timeWindowMs,
    keyGenerator: (request) => limitKey(NO_ORGANIZATION, addressBucket('enroll-link', request)),
  });

  // Browsers ask every site for /favicon.ico, and this page is the one an employee opens first.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) =>
    // Public and the same for everyone: the one answer that may be cached.
    reply.type('image/x-icon').header('cache-control', 'public, max-age=86400').send(FAVICON_ICO),
  );

  app.get(
    '/enroll/:secret',
    { schema: { hide: true, params: Type.Object({ secret: Type.String({ maxLength: 256 }) }) } },
    async (request, reply) => {
      const page = await pages.pageFor(request.params.secret);
      if (page.kind === 'not-found') {
        const limit = await countWrongLink(request);
        if (!limit.isAllowed && limit.isExceeded) {
          reply.header('retry-after', String(limit.ttlInSeconds));
          return sendPage(reply, { kind: 'rate-limited' });
        }
      }
      return sendPage(reply, page);
    },
  );
};
