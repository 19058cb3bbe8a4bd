import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, validationError } from '../../errors.ts';
import { isBase64, stripWhitespace } from '../../lib/base64.ts';
import { ID_PATTERN } from '../../lib/ids.ts';
import type { DeviceAuthLimit } from '../../limits/device-auth-limit.ts';
import { clientAddress } from '../../limits/rate-limit-store.ts';
import { APPLE_ROUTES } from '../../platforms/apple-urls.ts';
import type { CheckInService } from './checkin.service.ts';
import type { MdmChannelService } from './mdm-channel.service.ts';
import type { ProfileService } from './profile.service.ts';
import { ScepUnanswerable, type ScepService } from './scep.service.ts';

export interface AppleProtocolRoutesOptions {
  profiles: ProfileService;
  scep: ScepService;
  checkIn: CheckInService;
  mdm: MdmChannelService;
  /** The enrollment page's HTML, handed in by app.ts: enroll-page/ is a sibling this folder does not import. */
  pages: EnrollPageHtml;
  wrongLinkLimit: { max: number; timeWindowMs: number };
  /** Messages refused as unsigned or badly signed (401) per client address, shared with Windows. */
  deviceAuthLimit: DeviceAuthLimit;
}

/** The page a browser is shown instead of a profile: why there is none (expired, used, revoked, no push certificate). */
export interface EnrollPageHtml {
  /** The page behind a link secret, as its recipient sees it now. */
  forSecret(secret: string): Promise<string>;
  notFound(): string;
  rateLimited(): string;
}

const CONTENT_TYPES = {
  profile: 'application/x-apple-aspen-config',
  checkIn: 'application/x-apple-aspen-mdm-checkin',
  mdm: 'application/x-apple-aspen-mdm',
  pkiMessage: 'application/x-pki-message',
  caCert: 'application/x-x509-ca-cert',
} as const;

const OrgPathParams = Type.Object({ organizationId: Type.String({ pattern: ID_PATTERN }) }, { additionalProperties: false });
const BinaryBody = Type.Unsafe<Buffer>({ description: 'the raw message bytes' });
const SCEP_OPERATIONS = ['GetCACaps', 'GetCACert', 'PKIOperation'] as const;
const ScepQuery = Type.Object(
  {
    operation: Type.Union(SCEP_OPERATIONS.map((o) => Type.Literal(o))),
    message: Type.Optional(Type.String({ maxLength: 65_536 })),
  },
  { additionalProperties: false },
);

/** The raw body, when it came with the protocol's content type (devices always send it). */
function requireBuffer(request: FastifyRequest, ...contentTypes: string[]): Buffer {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!Buffer.isBuffer(request.body) || !contentTypes.includes(type)) {
    throw validationError([{ path: 'headers.content-type', message: `must be ${contentTypes.join(' or ')}` }]);
  }
  return request.body;
}

/**
 * The endpoints an Apple device talks to, none behind an API key: the profile behind a token's
 * link (its secret), SCEP (the one-time challenge inside the request), and check-in and MDM
 * (signed by the identity SCEP issued). Each speaks its protocol's content types; refusals that
 * have no protocol form are the API's error envelope.
 */
export const appleProtocolRoutes: FastifyPluginAsyncTypebox<AppleProtocolRoutesOptions> = async (app, options) => {
  const { profiles, scep, checkIn, mdm, pages } = options;
  // Raw bytes for every type but JSON (kept by the app's own parser); each route checks its type.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const countWrongLink = app.createRateLimit({ max: options.wrongLinkLimit.max, timeWindow: options.wrongLinkLimit.timeWindowMs });

  const sendPage = (reply: FastifyReply, status: number, html: string) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(html);

  // No HEAD twin: a HEAD would mint a challenge for a download that never happens.
  app.get(APPLE_ROUTES.profile, { exposeHeadRoute: false, schema: { hide: true, params: Type.Object({ secret: Type.String({ maxLength: 256 }) }) } }, async (request, reply) => {
    const outcome = await profiles.profileFor(request.params.secret);
    switch (outcome.kind) {
      case 'profile':
        return reply
          .header('content-type', CONTENT_TYPES.profile)
          .header('content-disposition', 'attachment; filename="enroll.mobileconfig"')
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .send(outcome.body);
      case 'not-found': {
        const limit = await countWrongLink(request);
        if (!limit.isAllowed && limit.isExceeded) return sendPage(reply.header('retry-after', String(limit.ttlInSeconds)), 429, pages.rateLimited());
        return sendPage(reply, 404, pages.notFound());
      }
      case 'closed':
      case 'no-push-certificate': {
        // The page says why, in the token's language: expired, used, revoked, or no push certificate yet.
        return sendPage(reply, outcome.kind === 'closed' ? 410 : 409, await pages.forSecret(request.params.secret));
      }
    }
  });

  const scepHandler = async (request: FastifyRequest<{ Params: { organizationId: string }; Querystring: { operation: (typeof SCEP_OPERATIONS)[number]; message?: string } }>, reply: FastifyReply) => {
    const organizationId = request.params.organizationId.toLowerCase();
    const { operation } = request.query;
    // An unknown organization has no SCEP service at all: 404 before anything of the request is read.
    if (!(await scep.organizationExists(organizationId))) throw new AppError('NOT_FOUND');
    if (operation === 'GetCACaps') return reply.header('content-type', 'text/plain; charset=utf-8').send(scep.capabilities());
    if (operation === 'GetCACert') {
      const der = await scep.caCertificate(organizationId);
      if (!der) throw new AppError('NOT_FOUND');
      return reply.header('content-type', CONTENT_TYPES.caCert).send(der);
    }
    let message: Buffer;
    if (request.method === 'POST') {
      message = requireBuffer(request, CONTENT_TYPES.pkiMessage, 'application/octet-stream');
    } else {
      // A client that does not percent-encode '+' has it read back as a space by the query parser.
      const text = stripWhitespace((request.query.message ?? '').replaceAll(' ', '+'));
      if (!isBase64(text)) throw validationError([{ path: 'query.message', message: 'must be the base64 pkiMessage' }]);
      message = Buffer.from(text, 'base64');
    }
    let outcome: Awaited<ReturnType<ScepService['pkiOperation']>>;
    try {
      outcome = await scep.pkiOperation(organizationId, message);
    } catch (error) {
      if (error instanceof ScepUnanswerable) throw validationError([{ path: request.method === 'POST' ? 'body' : 'query.message', message: error.message }]);
      throw error;
    }
    if (!outcome) throw new AppError('NOT_FOUND');
    // RFC 8894 4.3: a refusal is a CertRep with pkiStatus FAILURE, delivered like a success.
    if (outcome.status === 'failed') request.log.info({ failInfo: outcome.failInfo, reason: outcome.reason }, 'SCEP request refused');
    return reply.header('content-type', CONTENT_TYPES.pkiMessage).send(outcome.certRep);
  };
  app.get(APPLE_ROUTES.scep, { schema: { hide: true, params: OrgPathParams, querystring: ScepQuery } }, scepHandler);
  app.post(APPLE_ROUTES.scep, { schema: { hide: true, params: OrgPathParams, querystring: ScepQuery, body: BinaryBody } }, scepHandler);

  /**
   * A message refused as not authenticated (401) counts against its address; past the limit the
   * address is answered 429 with Retry-After before its signature is verified. Authenticated
   * messages never count (many devices share an office's address).
   */
  const authenticated = async <T>(request: FastifyRequest, handle: () => Promise<T>): Promise<T> => {
    const address = clientAddress(request);
    const blocked = await options.deviceAuthLimit.check(address);
    if (blocked) throw new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': String(blocked.retryAfterSeconds) } });
    try {
      return await handle();
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 401) await options.deviceAuthLimit.fail(address);
      throw error;
    }
  };

  app.put(APPLE_ROUTES.checkIn, { schema: { hide: true, params: OrgPathParams, body: BinaryBody } }, async (request, reply) => {
    const body = requireBuffer(request, CONTENT_TYPES.checkIn);
    const result = await authenticated(request, () => checkIn.checkIn(request.params.organizationId.toLowerCase(), request.headers['mdm-signature'], body));
    return reply.code(result.status).send();
  });

  app.put(APPLE_ROUTES.server, { schema: { hide: true, params: OrgPathParams, body: BinaryBody } }, async (request, reply) => {
    const body = requireBuffer(request, CONTENT_TYPES.mdm);
    const command = await authenticated(request, () => mdm.report(request.params.organizationId.toLowerCase(), request.headers['mdm-signature'], body));
    // Command queue (issue 23): the next command as a plist, or an empty 200 when none is left.
    if (command !== null) return reply.code(200).header('content-type', 'application/xml; charset=utf-8').send(command);
    return reply.code(200).send();
  });
};
