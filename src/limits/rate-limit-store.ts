import { normalizeIP, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { CounterStore } from './counter-store.ts';

/**
 * The key @fastify/rate-limit hands its store: the bucket's organization, then the bucket.
 * Organization ids are hex and the empty one has no characters, so the first `/` splits them.
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
  return `${prefix}:${normalizeIP(request.ip)}`;
}

/** @fastify/rate-limit's store interface over the shared counters. */
export function rateLimitStore(counters: CounterStore): FastifyRateLimitStoreCtor {
  return class CounterRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const slash = key.indexOf('/');
      counters.hit(key.slice(0, slash), key.slice(slash + 1), timeWindow).then(
        (hit) => callback(null, { current: hit.count, ttl: hit.ttlMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
