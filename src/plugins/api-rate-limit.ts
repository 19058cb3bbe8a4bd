import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

export interface ApiRateLimitOptions {
  /** Requests per window and caller; 0 turns the limit off. */
  max: number;
  timeWindowMs: number;
}

const API_PATH = /^\/v1(?:[/?]|$)/;

/** The bucket of a request: its API key when it has one, else the client's address. */
export function rateLimitKey(request: FastifyRequest): string {
  return request.auth ? `key:${request.auth.keyId}` : `ip:${request.ip}`;
}

/**
 * Limits the /v1 API per API key. Must be registered after the auth hook: onRequest hooks run
 * in the order they were added, so the key is known here, and a bad key has already had its
 * 401 (it never reaches, nor spends, anyone's budget). It still runs before the body is read.
 * Requires @fastify/rate-limit to be registered (its `rateLimit` decorator).
 */
export function registerApiRateLimit(app: FastifyInstance, { max, timeWindowMs }: ApiRateLimitOptions): void {
  if (max === 0) return;
  const limit = app.rateLimit({
    max,
    timeWindow: timeWindowMs,
    keyGenerator: rateLimitKey,
    // Thrown, so the one error path renders it: 429 4029 with the request id.
    errorResponseBuilder: (_request, context) =>
      new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs(context) / 1000))) } }),
  });
  app.addHook('onRequest', async function apiRateLimit(request, reply) {
    if (!API_PATH.test(request.url) && request.routeOptions.config.permission === undefined) return;
    await limit.call(this, request, reply);
  });
}

function retryAfterMs(context: object): number {
  const ttl = (context as { ttl?: unknown }).ttl;
  return typeof ttl === 'number' && Number.isFinite(ttl) ? ttl : 1000;
}
