import { normalizeIP, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { NO_ORGANIZATION, type CounterStore } from './counter-store.ts';

/**
 * The key @fastify/rate-limit hands its store: the bucket's organization, then the bucket.
 * Organization ids are hex and the empty one has no characters, so the first `/` splits them;
 * a key without one (a limiter that builds its own) is a bucket of no organization.
 */
export function limitKey(organizationId: string, bucket: string): string {
  return `${organizationId}/${bucket}`;
}

/**
 * The bucket of a client address: the address itself for IPv4, its /64 for IPv6, where one
 * client commonly holds the whole block (a per-address limit would otherwise be 2^64 limits).
 * `request.ip` is the forwarded client's address when TRUST_PROXY names the proxy.
 */
export function addressBucket(prefix: string, request: FastifyRequest): string {
  return `${prefix}:${clientAddress(request)}`;
}

/** The client address as limits count it: IPv4 itself, IPv6 by its /64 (see addressBucket). */
export function clientAddress(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

/**
 * @fastify/rate-limit's store interface over the shared counters. Each limiter made with
 * `rateLimit(options)` or `createRateLimit(options)` gets a child; keys that do not name their
 * own bucket (the plugin's default, the client address) are kept apart per child, numbered in
 * the order the app creates its limiters, which is the same in every process.
 */
export function rateLimitStore(counters: CounterStore): FastifyRateLimitStoreCtor {
  let children = 0;
  class CounterRateLimitStore implements FastifyRateLimitStore {
    /** Set by child(); the plugin constructs the root store with its own options. */
    limiter = 'limiter-0';

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const slash = key.indexOf('/');
      const [organizationId, bucket] = slash === -1 ? [NO_ORGANIZATION, `${this.limiter}:${key}`] : [key.slice(0, slash), key.slice(slash + 1)];
      counters.hit(organizationId, bucket, timeWindow).then(
        (hit) => callback(null, { current: hit.count, ttl: hit.ttlMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    child(): FastifyRateLimitStore {
      const store = new CounterRateLimitStore();
      store.limiter = `limiter-${++children}`;
      return store;
    }
  }
  return CounterRateLimitStore;
}
