import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { looksLikeKey } from '../auth/api-key-credentials.ts';
import { AppError } from '../errors.ts';
import { NO_ORGANIZATION, type CounterStore } from '../limits/counter-store.ts';
import { addressBucket, limitKey, rateLimitStore } from '../limits/rate-limit-store.ts';
import { bearer } from './auth.ts';

export interface ApiRateLimitOptions {
  counters: CounterStore;
  /** Requests per window and API key; 0 turns the limit off. */
  perKey: number;
  /** Requests without a valid key per window and client address; 0 turns the limit off. */
  unauthenticated: number;
  timeWindowMs: number;
  /** Whether this process verified the key moments ago and it still holds (no database round trip). */
  isKnownKey: (secret: string) => boolean;
  /**
   * Whether the request's credential (its bearer key, else its console session cookie) carries
   * the server's valid check and has not failed moments ago (auth/credential-check.ts): one
   * HMAC, no database round trip.
   */
  isChecked: (request: FastifyRequest) => boolean;
}

const API_PATH = /^\/v1(?:[/?]|$)/;

const tooManyRequests = (ttlMs: number) => new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': String(Math.max(1, Math.ceil(ttlMs / 1000))) } });

/**
 * The /v1 API's two limits. Before authentication, each client address may make so many
 * requests without a valid key (none, malformed, unknown, expired, revoked, or a path no key
 * opens) per window; past it, they get 429 4029 before any key lookup, so bad keys cannot cost
 * unbounded database reads. Requests with a valid key never count there, and a key the server
 * minted is never refused there: it carries a check verified without the database
 * (auth/credential-check.ts) that no guess can carry, so it goes on to its lookup (and to its
 * own per-key budget) whatever its address sent before. A checked key that fails (revoked,
 * expired) counts like any bad key, and once it has failed it is remembered
 * (auth/failure-memory.ts) and treated as one. Keys made before the check exist are looked up
 * only within the address's budget, as before. After authentication, each key has its own
 * budget. On PostgreSQL the counters are in the database, so every process shares them; a
 * valid key costs one counter upsert per request.
 */
export function createApiRateLimits(options: ApiRateLimitOptions) {
  const { counters, timeWindowMs } = options;
  /** Requests whose credential is being looked up: counted against this bucket if it fails. */
  const pending = new WeakMap<FastifyRequest, string>();

  return {
    /** Must be added before the auth hook: onRequest hooks run in the order they were added. */
    registerBeforeAuth(app: FastifyInstance): void {
      const max = options.unauthenticated;
      if (max === 0) return;
      app.addHook('onRequest', async function unauthenticatedLimit(request) {
        const needsKey = request.routeOptions.config.permission !== undefined;
        if (!needsKey && !API_PATH.test(request.url)) return;
        const secret = bearer(request.headers.authorization);
        // A key this process has just verified passes untouched; the auth hook reuses it.
        if (needsKey && secret !== undefined && options.isKnownKey(secret)) return;
        const bucket = addressBucket('anonymous', request);
        // Minted by this server and not known to have failed: looked up whatever the address did.
        if (needsKey && options.isChecked(request)) {
          pending.set(request, bucket);
          return;
        }
        const credential = needsKey && (secret !== undefined ? looksLikeKey(secret) : request.headers.cookie !== undefined);
        if (!credential) {
          // No key, a malformed one, or a path no key opens: answered without a lookup, counted now.
          const hit = await counters.hit(NO_ORGANIZATION, bucket, timeWindowMs);
          if (hit.count > max) throw tooManyRequests(hit.ttlMs);
          return;
        }
        // A key (or a console session) to look up: refused without the lookup once the address has
        // spent its budget, and counted only if it fails (below). Requests in flight together may
        // each pass before the first failure is counted, so the bound is the limit plus those.
        const seen = await counters.peek(NO_ORGANIZATION, bucket);
        if (seen.count >= max) throw tooManyRequests(seen.ttlMs);
        pending.set(request, bucket);
      });
      app.addHook('onSend', async (request, reply, payload) => {
        const bucket = pending.get(request);
        if (bucket !== undefined && reply.statusCode === 401) await counters.hit(NO_ORGANIZATION, bucket, timeWindowMs);
        return payload;
      });
    },

    /** Must be added after the auth hook, so the key is known; runs before the body is read. */
    async registerAfterAuth(app: FastifyInstance): Promise<void> {
      await app.register(rateLimit, { global: false, store: rateLimitStore(counters) });
      if (options.perKey === 0) return;
      const limit = app.rateLimit({
        max: options.perKey,
        timeWindow: timeWindowMs,
        keyGenerator: (request) => limitKey(request.auth!.organization.id, `key:${request.auth!.keyId}`),
        // Thrown, so the one error path renders it: 429 4029 with the request id.
        errorResponseBuilder: (_request, context) => tooManyRequests(context.ttl),
      });
      app.addHook('onRequest', async function apiRateLimit(request, reply) {
        if (request.auth) await limit.call(this, request, reply);
      });
    },
  };
}
