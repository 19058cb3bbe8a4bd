import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS for the listed origins only; with none (the default) the plugin is not registered and
 * browsers on other sites get no grant at all. A foreign origin's preflight is not answered
 * either: it falls through to the not-found handler (405 with Allow on a known path). No
 * credentials mode: keys travel in the Authorization header, never in cookies.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
    maxAge: 600,
  });
}
