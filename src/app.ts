import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Container } from './container.ts';
import { ErrorEnvelope } from './lib/schemas.ts';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerErrorHandling } from './plugins/error-handler.ts';
import { genRequestId } from './plugins/request-id.ts';
import { createValidatorCompiler } from './plugins/validation.ts';

export interface BuildAppOptions {
  container: Container;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the HTTP app over the services; does no I/O, so tests can `inject` into it. */
export async function buildApp({ container, logger = false }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    genReqId: genRequestId,
    bodyLimit: container.config.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    return503OnClosing: true,
    connectionTimeout: 30_000,
    requestTimeout: 60_000,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  app.addSchema(ErrorEnvelope);
  registerErrorHandling(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerAuth(app, container.apiKeys);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Openroll API',
        version: '1.0.0',
        description: 'Enrollment tokens for Windows and Apple devices, compatible with the Applivery MDM API.',
      },
      servers: [{ url: container.config.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { ping: container.database.ping });
  await app.register(apiKeysRoutes, { apiKeys: container.apiKeys });
  return app;
}
