import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { errorResponse } from '../../lib/schemas.ts';

const Health = Type.Object({ status: Type.Literal(true), data: Type.Object({ ok: Type.Boolean() }) });

export const healthRoutes: FastifyPluginAsyncTypebox<{ ping: () => Promise<void> }> = async (app, { ping }) => {
  app.get('/healthz', { schema: { tags: ['Operations'], summary: 'The process is up', response: { 200: Health } } }, async () => ({
    status: true as const,
    data: { ok: true },
  }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['Operations'],
        summary: 'The database answers (503 otherwise)',
        response: { 200: Health, 503: errorResponse(503) },
      },
    },
    async () => {
      try {
        await ping();
      } catch {
        throw new AppError('DATABASE');
      }
      return { status: true as const, data: { ok: true } };
    },
  );
};
