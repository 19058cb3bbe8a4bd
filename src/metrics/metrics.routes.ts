import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { errorResponse } from '../lib/schemas.ts';
import { digestsEqual, sha256 } from '../lib/secrets.ts';
import type { Metrics } from './metrics.ts';

const UNMATCHED = '(unmatched)';

/**
 * Times every request by its route pattern (never the raw URL: ids and link secrets stay out of
 * the labels). Added on the root instance before any route, so every route has it.
 */
export function registerRequestTiming(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

export interface MetricsRoutesOptions {
  metrics: Metrics;
  /** METRICS_TOKEN: when set, /metrics wants it as a bearer. */
  token: string | undefined;
}

/** /metrics in the Prometheus text format, behind METRICS_TOKEN when that is set. */
export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, { metrics, token }) => {
  metrics.collectProcessMetrics();
  const expected = token === undefined ? undefined : sha256(token);

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['Operations'],
        summary: 'Prometheus metrics in the text exposition format',
        description: 'Open unless METRICS_TOKEN is set; then it wants that token as a bearer (401 without it).',
        // Optional: whether a bearer is wanted depends on the server's METRICS_TOKEN.
        security: [{ bearer: [] }, {}],
        response: {
          200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Type.String() } } },
          401: errorResponse(401),
        },
      },
    },
    async (request, reply) => {
      if (expected) {
        const presented = request.headers.authorization?.trim().replace(/^Bearer\s+/i, '').trim();
        if (!presented) throw new AppError('NO_AUTH_TOKEN');
        // Digests of equal length, compared in constant time.
        if (!digestsEqual(sha256(presented), expected)) throw new AppError('INVALID_TOKEN');
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
};
