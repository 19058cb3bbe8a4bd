import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { NO_ORGANIZATION, type CounterStore } from '../limits/counter-store.ts';
import { addressBucket, limitKey, rateLimitStore } from '../limits/rate-limit-store.ts';
import { bearer } from './auth.ts';

export interface ApiRateLimitOptions {
  counters: CounterStore;
  /** Requests per window and API key; 0 turns the limit off. */
  perKey: number;
  /** Requests per window and client address without a valid key; 0 turns the limit off. */
  unauthenticated: number;
  timeWindowMs: number;
  /** Whether a key authenticated recently and still holds (no database round trip). */
  isKnownKey: (secret: string) => boolean;
}

const API_PATH = /^\/v1(?:[/?]|$)/;

const tooManyRequests = (ttlMs: number) => new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': String(Math.max(1, Math.ceil(ttlMs / 1000))) } });

/**
 * The /v1 API's two limits. Before authentication, every request that does not carry a key
 * known to be valid counts against its client address, so bad keys (none, malformed, unknown,
 * expired, revoked) cost at most that many key lookups before they get 429 without one; an
 * attempt whose key turns out valid is taken back. After authentication, each key has its own
 * budget. Counters live in the database on PostgreSQL, so every process shares them.
 */
export function createApiRateLimits(options: ApiRateLimitOptions) {
  const { counters, timeWindowMs } = options;
  /** The address bucket a request was counted in, to take it back once its key proves valid. */
  const counted = new WeakMap<FastifyRequest, string>();

  return {
    /** Must be added before the auth hook: onRequest hooks run in the order they were added. */
    registerBeforeAuth(app: FastifyInstance): void {
      if (options.unauthenticated === 0) return;
      app.addHook('onRequest', async function unauthenticatedLimit(request) {
        const authenticated = request.routeOptions.config.permission !== undefined;
        if (!authenticated && !API_PATH.test(request.url)) return;
        // A key this process has just verified is let through untouched; the auth hook reuses it.
        const secret = bearer(request.headers.authorization);
        if (authenticated && secret !== undefined && options.isKnownKey(secret)) return;
        const bucket = addressBucket('anonymous', request);
        const hit = await counters.hit(NO_ORGANIZATION, bucket, timeWindowMs);
        counted.set(request, bucket);
        if (hit.count > options.unauthenticated) throw tooManyRequests(hit.ttlMs);
      });
    },

    /** Must be added after the auth hook, so the key is known; runs before the body is read. */
    async registerAfterAuth(app: FastifyInstance): Promise<void> {
      await app.register(rateLimit, { global: false, store: rateLimitStore(counters) });
      const limit =
        options.perKey === 0
          ? undefined
          : app.rateLimit({
              max: options.perKey,
              timeWindow: timeWindowMs,
              keyGenerator: (request) => limitKey(request.auth!.organization.id, `key:${request.auth!.keyId}`),
              // Thrown, so the one error path renders it: 429 4029 with the request id.
              errorResponseBuilder: (_request, context) => tooManyRequests(context.ttl),
            });
      app.addHook('onRequest', async function apiRateLimit(request, reply) {
        if (!request.auth) return;
        const bucket = counted.get(request);
        if (bucket !== undefined) await counters.refund(NO_ORGANIZATION, bucket);
        if (limit) await limit.call(this, request, reply);
      });
    },
  };
}
