import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../errors.ts';
import { isDatabaseUnavailable, QUERY_CANCELED, sqlState } from '../lib/db-errors.ts';

interface AjvLikeError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const LOCATION: Record<string, string> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

function fieldPath(location: string, instancePath: string, leaf?: unknown): string {
  const parts = instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (typeof leaf === 'string') parts.push(leaf);
  return [location, ...parts].join('.');
}

function toFieldError(location: string, e: AjvLikeError): FieldError {
  if (e.keyword === 'required') return { path: fieldPath(location, e.instancePath, e.params.missingProperty), message: 'is required' };
  if (e.keyword === 'additionalProperties') {
    return { path: fieldPath(location, e.instancePath, e.params.additionalProperty), message: 'is not allowed' };
  }
  return { path: fieldPath(location, e.instancePath), message: e.message ?? 'is invalid' };
}

/**
 * Every failing field of a schema validation. A union (anyOf) reports each of its branches;
 * those collapse into one entry for the field, naming the allowed values when they are constants.
 */
export function toFieldErrors(context: string | undefined, errors: AjvLikeError[]): FieldError[] {
  const location = LOCATION[context ?? 'body'] ?? 'body';
  const unions = new Map<string, unknown[]>();
  for (const e of errors) if (e.keyword === 'anyOf') unions.set(e.instancePath, []);
  for (const e of errors) {
    const allowed = unions.get(e.instancePath);
    if (allowed && e.keyword === 'const') allowed.push(e.params.allowedValue);
  }
  const out = new Map<string, FieldError>();
  for (const e of errors) {
    const union = unions.get(e.instancePath);
    if (union && e.keyword !== 'required' && e.keyword !== 'additionalProperties') {
      const path = fieldPath(location, e.instancePath);
      const message = union.length ? `must be one of ${union.map(String).join(', ')}` : 'does not match any allowed form';
      out.set(`${path}\u0000union`, { path, message });
      continue;
    }
    const entry = toFieldError(location, e);
    out.set(`${entry.path}\u0000${entry.message}`, entry);
  }
  return [...out.values()];
}

/** Maps the framework's own failures onto the closed table of codes. */
function fromFrameworkError(error: FastifyError): AppError | undefined {
  if (error.validation) {
    return new AppError('VALIDATION', {
      data: { errors: toFieldErrors(error.validationContext, error.validation as AjvLikeError[]) },
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('VALIDATION', { data: { errors: [{ path: 'body', message: 'is not valid JSON' }] } });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('VALIDATION', { data: { errors: [{ path: 'body', message: 'is empty' }] } });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('VALIDATION', { data: { errors: [{ path: 'headers.content-type', message: 'must be application/json' }] } });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('VALIDATION', { data: { errors: [{ path: 'headers.content-length', message: 'does not match the body' }] } });
    case 'FST_ERR_BAD_URL':
      return new AppError('VALIDATION', { data: { errors: [{ path: 'params', message: 'is not valid percent-encoded UTF-8' }] } });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('VALIDATION', { data: { errors: [{ path: 'params', message: 'is too long' }] } });
    default:
      return undefined;
  }
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.statusCode).send({
    status: false,
    error: {
      code: error.code,
      message: error.message,
      requestId: request.id,
      ...(error.data ? { data: error.data } : {}),
    },
  });
}

/**
 * Fastify's `frameworkErrors` option: what the router rejects before any route or hook runs (a
 * path parameter that is not valid percent-encoded UTF-8, or longer than `maxParamLength`).
 * Without it Fastify answers with its own body, outside the envelope.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  const mapped = fromFrameworkError(error);
  if (!mapped) request.log.error({ err: error }, 'unexpected router error');
  void sendError(request, reply, mapped ?? new AppError('INTERNAL'));
}

/** The one error path: every failure, the framework's own included, leaves as the envelope. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) return sendError(request, reply, error);
    const mapped = fromFrameworkError(error);
    if (mapped) return sendError(request, reply, mapped);
    if (sqlState(error) === QUERY_CANCELED) {
      request.log.warn({ err: error }, 'statement timeout');
      return sendError(request, reply, new AppError('DATABASE_TIMEOUT'));
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable');
      return sendError(request, reply, new AppError('DATABASE'));
    }
    if (error.statusCode === 429) {
      return sendError(request, reply, new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': String(reply.getHeader('retry-after') ?? 1) } }));
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(request, reply, new AppError('INTERNAL'));
  });

  app.setNotFoundHandler((request, reply) => sendError(request, reply, new AppError('ROUTE_NOT_FOUND')));
}
