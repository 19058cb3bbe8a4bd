import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../../permissions.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import { authOf } from '../../plugins/auth.ts';
import type { createTokenCreateService } from './token-lifecycle.service.ts';
import { normalizeSendEmail, toTokenInput, toTokenPatch } from './token-input.ts';
import { tokenRouteSchemas } from './token.schemas.ts';
import type { TokensService } from './token-queries.service.ts';

export interface TokenRoutesOptions {
  platform: Platform;
  tokens: TokensService;
  tokenCreate: ReturnType<typeof createTokenCreateService>;
}

type Query = { page?: number; limit?: number; sort?: string; 'show-deleted'?: boolean } & Record<string, unknown>;
type Body = Record<string, unknown>;

const sendEmailAsJoiDoes: preValidationAsyncHookHandler = async (request) => normalizeSendEmail(request.body);

/** The enrollment-token API of one platform; the same plugin serves Windows and Apple. */
export const enrollmentTokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (app, { platform, tokens, tokenCreate }) => {
  const n = PLATFORM_NAMES[platform];
  const schemas = tokenRouteSchemas(platform);
  const base = `/v1/organizations/:organizationId/mdm/${platform}/enterprise/enrollment-tokens`;
  const permission = (action: string) => ({ permission: `mdm.${platform}.enrollmentToken.${action}` as Permission });
  const idempotencyKey = (headers: Record<string, unknown>) => headers['idempotency-key'] as string | undefined;

  app.get(base, { schema: schemas.list, config: permission('list') }, async (request) => {
    const q = request.query as Query;
    const data = await tokens.list(authOf(request), platform, {
      page: q.page ?? 1,
      limit: q.limit ?? 25,
      sort: q.sort,
      mdmUserId: q['mdm-user'] as string | undefined,
      policyId: q[n.policyFilter] as string | undefined,
      showDeleted: q['show-deleted'] ?? false,
    });
    return { status: true as const, data };
  });

  app.post(base, { schema: schemas.create, config: permission('create'), preValidation: sendEmailAsJoiDoes }, async (request) => {
    const body = request.body as Body;
    const input = toTokenInput(platform, body);
    const data = await tokenCreate.create(authOf(request), platform, body.mdmUserId as string, input, idempotencyKey(request.headers));
    return { status: true as const, data };
  });

  app.post(`${base}/bulk`, { schema: schemas.bulk, config: permission('create'), preValidation: sendEmailAsJoiDoes }, async (request) => {
    const body = request.body as Body;
    const input = toTokenInput(platform, body);
    const data = await tokenCreate.bulkCreate(authOf(request), platform, body.userEmails as string[], input, idempotencyKey(request.headers));
    return { status: true as const, data };
  });

  app.get(`${base}/:id`, { schema: schemas.get, config: permission('get') }, async (request) => {
    return { status: true as const, data: await tokens.get(authOf(request), platform, request.params.id) };
  });

  app.put(`${base}/:id`, { schema: schemas.update, config: permission('update') }, async (request) => {
    const patch = toTokenPatch(platform, request.body as Body);
    return { status: true as const, data: await tokens.update(authOf(request), platform, request.params.id, patch) };
  });

  app.delete(`${base}/:id`, { schema: schemas.revoke, config: permission('remove') }, async (request) => {
    return { status: true as const, data: await tokens.revoke(authOf(request), platform, request.params.id) };
  });

  app.post(`${base}/:id/send-email`, { schema: schemas.sendEmail, config: permission('create') }, async (request) => {
    return { status: true as const, data: await tokens.resendEmail(authOf(request), platform, request.params.id) };
  });

  app.get(`${base}/:id/events`, { schema: schemas.events, config: permission('get') }, async (request) => {
    const { page = 1, limit = 25 } = request.query as Query;
    return { status: true as const, data: await tokens.events(authOf(request), platform, request.params.id, { page, limit }) };
  });
};
