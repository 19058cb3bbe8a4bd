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

/** The contract's error envelope for an AppError. */
export function errorBody(error: AppError, requestId: string) {
  return {
    status: false as const,
    error: {
      code: error.code,
      message: error.message,
      requestId,
      ...(error.data ? { data: error.data } : {}),
    },
  };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.statusCode).send(errorBody(error, request.id));
}

/**
 * A plugin's own refusal (a 4xx it threw, e.g. @fastify/static refusing `/docs/static/../x`
 * with 403) in the contract's terms: the caller's fault, so never a 500 nor an error-level log.
 * A file the server will not serve does not exist, as far as the caller is concerned.
 */
function fromClientStatus(status: number): AppError {
  switch (status) {
    case 403:
    case 404:
      return new AppError('ROUTE_NOT_FOUND');
    case 405:
      return new AppError('METHOD_NOT_ALLOWED');
    case 408:
      return new AppError('REQUEST_TIMEOUT');
    case 413:
      return new AppError('PAYLOAD_TOO_LARGE');
    case 431:
      return new AppError('HEADERS_TOO_LARGE');
    default:
      return new AppError('VALIDATION', { data: { errors: [{ path: 'request', message: 'cannot be served' }] } });
  }
}

/** Methods a route can be registered for; OPTIONS is left out, as CORS answers it on every path. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The methods a path has routes for, for a 405's `Allow`; empty when the path is unknown. */
function allowedMethods(app: FastifyInstance, url: string): string[] {
  const path = url.split('?', 1)[0] ?? url;
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
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
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      request.log.info({ err: { code: error.code, message: error.message } }, 'request refused');
      return sendError(request, reply, fromClientStatus(error.statusCode));
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(request, reply, new AppError('INTERNAL'));
  });

  // A known path with a method it has no route for is a 405 naming the ones it has.
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(app, request.url);
    // A route of this very method that found nothing (a missing /docs/static file) is a 404.
    if (allowed.length === 0 || allowed.includes(request.method)) return sendError(request, reply, new AppError('ROUTE_NOT_FOUND'));
    return sendError(request, reply, new AppError('METHOD_NOT_ALLOWED', { headers: { allow: allowed.join(', ') } }));
  });
}
