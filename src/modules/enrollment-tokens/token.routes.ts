import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../../permissions.ts';
import type { Platform } from '../../platforms/platforms.ts';
import { authOf } from '../../plugins/auth.ts';
import { normalizeSendEmail, toTokenInput, toTokenPatch } from './token-input.ts';
import type { TokenLifecycle } from './token-lifecycle.service.ts';
import type { TokenQueries } from './token-queries.service.ts';
import { TOKEN_ROUTE_SCHEMAS, type TokenListQueryParams } from './token.schemas.ts';

export interface TokenRoutesOptions {
  platform: Platform;
  tokens: TokenQueries;
  lifecycle: TokenLifecycle;
}

const sendEmailAsJoiDoes: preValidationAsyncHookHandler = async (request) => normalizeSendEmail(request.body);

/** The list's policy filter: `win-policy` on Windows, `adm-policy` on Apple (each schema admits its own). */
function policyFilterOf(query: TokenListQueryParams): string | undefined {
  return 'win-policy' in query ? query['win-policy'] : 'adm-policy' in query ? query['adm-policy'] : undefined;
}

/** The enrollment-token API of one platform; the same plugin serves Windows and Apple. */
export const enrollmentTokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (app, { platform, tokens, lifecycle }) => {
  const schemas = TOKEN_ROUTE_SCHEMAS[platform];
  const base = `/v1/organizations/:organizationId/mdm/${platform}/enterprise/enrollment-tokens`;
  const permission = (action: 'list' | 'get' | 'create' | 'update' | 'remove'): { permission: Permission } => ({ permission: `mdm.${platform}.enrollmentToken.${action}` });

  app.get(base, { schema: schemas.list, config: permission('list') }, async (request) => {
    const query = request.query;
    const data = await tokens.list(authOf(request), platform, {
      page: query.page ?? 1,
      limit: query.limit ?? 25,
      sort: query.sort,
      mdmUserId: query['mdm-user'],
      policyId: policyFilterOf(query),
      showDeleted: query['show-deleted'] ?? false,
    });
    return { status: true as const, data };
  });

  app.post(base, { schema: schemas.create, config: permission('create'), preValidation: sendEmailAsJoiDoes }, async (request) => {
    const { body } = request;
    const data = await lifecycle.issue(authOf(request), platform, body.mdmUserId, toTokenInput(body), request.headers['idempotency-key']);
    return { status: true as const, data };
  });

  app.post(`${base}/bulk`, { schema: schemas.bulk, config: permission('create'), preValidation: sendEmailAsJoiDoes }, async (request) => {
    const { body } = request;
    const data = await lifecycle.issueBulk(authOf(request), platform, body.userEmails, toTokenInput(body), request.headers['idempotency-key']);
    return { status: true as const, data };
  });

  app.get(`${base}/:id`, { schema: schemas.get, config: permission('get') }, async (request) => {
    return { status: true as const, data: await tokens.get(authOf(request), platform, request.params.id) };
  });

  app.put(`${base}/:id`, { schema: schemas.update, config: permission('update') }, async (request) => {
    return { status: true as const, data: await lifecycle.update(authOf(request), platform, request.params.id, toTokenPatch(request.body)) };
  });

  app.delete(`${base}/:id`, { schema: schemas.revoke, config: permission('remove') }, async (request) => {
    return { status: true as const, data: await lifecycle.revoke(authOf(request), platform, request.params.id) };
  });

  app.post(`${base}/:id/send-email`, { schema: schemas.sendEmail, config: permission('create') }, async (request) => {
    return { status: true as const, data: await lifecycle.resendEmail(authOf(request), platform, request.params.id) };
  });

  app.get(`${base}/:id/events`, { schema: schemas.events, config: permission('get') }, async (request) => {
    const { page = 1, limit = 25 } = request.query;
    return { status: true as const, data: await tokens.events(authOf(request), platform, request.params.id, { page, limit }) };
  });
};
