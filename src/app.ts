import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type RouteOptions } from 'fastify';
import type { Container } from './container.ts';
import { registerConsole } from './console/console.plugin.ts';
import { createSessionAuthenticator } from './console/session-auth.ts';
import { enrollPageRoutes } from './enroll-page/enroll-page.routes.ts';
import { metricsRoutes, registerRequestTiming } from './metrics/metrics.routes.ts';
import { renderEnrollPage } from './enroll-page/enroll-page.view.ts';
import { ErrorEnvelope, serverWideResponses } from './lib/schemas.ts';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.ts';
import { pushCertificateRoutes } from './modules/apple-push-certificate/push-certificate.routes.ts';
import { enterprisesRoutes } from './modules/enterprises/enterprises.routes.ts';
import { enrollmentTokenRoutes } from './modules/enrollment-tokens/token.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { mdmUsersRoutes } from './modules/mdm-users/mdm-users.routes.ts';
import { policiesRoutes } from './modules/policies/policies.routes.ts';
import { segmentsRoutes } from './modules/segments/segments.routes.ts';
import { dashboardRoutes } from './modules/dashboard/dashboard.routes.ts';
import { vppLocationsRoutes } from './modules/vpp-locations/vpp-locations.routes.ts';
import { devicesRoutes } from './devices/devices.routes.ts';
import { PLATFORMS } from './platforms/platforms.ts';
import { windowsRoutes } from './protocols/windows/windows.routes.ts';
import { createCertificateSource } from './protocols/windows/client-certificate.ts';
import { createDeviceAuthLimit } from './limits/device-auth-limit.ts';
import { WRONG_CODE_WINDOW_MS, WRONG_CODES_PER_ADDRESS, WRONG_CODES_PER_USER } from './protocols/windows/wrong-code-limit.ts';
import { appleProtocolRoutes } from './protocols/apple/apple-protocol.routes.ts';
import { createApiRateLimits } from './plugins/api-rate-limit.ts';
import { bearer, registerAuth } from './plugins/auth.ts';
import { clientErrorHandler } from './plugins/client-errors.ts';
import { registerCors } from './plugins/cors.ts';
import { frameworkErrorHandler, registerErrorHandling } from './plugins/error-handler.ts';
import { registerJsonBodyParser } from './plugins/json-body.ts';
import { KEY_QUEUE_LENGTH, registerKeyConcurrency } from './plugins/key-concurrency.ts';
import { genRequestId } from './plugins/request-id.ts';
import { docsCsp, inlineStyleSources, registerSecurityHeaders } from './plugins/security-headers.ts';
import { serverTimeouts } from './plugins/server-timeouts.ts';
import { registerStatementTimeouts } from './plugins/statement-timeouts.ts';
import { webhooksRoutes } from './webhooks/webhooks.routes.ts';
import { deviceCommandsRoutes } from './devices/commands/device-commands.routes.ts';
import { createValidatorCompiler } from './plugins/validation.ts';

export interface BuildAppOptions {
  container: Container;
  /** The server's pino logger; tests build the app without one. */
  logger?: FastifyBaseLogger;
  /** Sees every route as it registers; tests build their route-driven suites from it. */
  onRoute?: (route: RouteOptions) => void;
  /** Routes of tools outside the product, registered last with the container (the benchmark's ceiling and floor, bench/). */
  routes?: Array<FastifyPluginAsync<{ container: Container }>>;
  /**
   * Serve HTTPS with this certificate and key (TLS_CERT_FILE, TLS_KEY_FILE, read by server.ts).
   * Every client is asked for a certificate and none is refused at the handshake: one listener
   * serves every organization, so the device paths check the certificate against the
   * organization's own CA in code, and browsers and API clients need none.
   */
  tls?: { cert: Buffer; key: Buffer };
}

/** Refused device authentications one client address may send per window (both platforms). */
export const DEVICE_AUTH_FAILURES = { max: 30, timeWindowMs: 10 * 60_000 } as const;

/** Builds the HTTP app over the services; does no I/O, so tests can `inject` into it. */
export async function buildApp({ container, logger, onRoute, routes = [], tls }: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = container;
  const https = config.publicUrl.startsWith('https:');
  const options = {
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    genReqId: genRequestId,
    bodyLimit: config.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // request.ip is X-Forwarded-For's client only when the connection comes from a listed proxy.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
    ...serverTimeouts(config),
    clientErrorHandler,
  };
  // The HTTPS server's type differs only in its socket; the app itself is the same.
  const app = (
    tls ? (Fastify({ ...options, https: { cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false } }) as unknown as FastifyInstance) : Fastify(options)
  ).withTypeProvider<TypeBoxTypeProvider>();
  if (onRoute) app.addHook('onRoute', onRoute);

  app.setValidatorCompiler(createValidatorCompiler());
  registerJsonBodyParser(app);
  app.addSchema(ErrorEnvelope);
  registerErrorHandling(app);
  registerStatementTimeouts(app, { readMs: config.statementTimeoutMs, writeMs: config.writeStatementTimeoutMs });
  registerRequestTiming(app, container.metrics);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // onRequest hooks run in this order: headers first (so errors carry them too), then CORS
  // preflights (answered before auth), then the per-address limit on requests without a valid
  // key (before the key lookup it protects), then auth, then the per-key limit that needs the key.
  await registerSecurityHeaders(app, { https, styleSources: inlineStyleSources(renderEnrollPage({ kind: 'not-found' })) });
  await registerCors(app, config.corsOrigins);
  const consoleSessions = createSessionAuthenticator(container.consoleSessions, config.publicUrl);
  const limits = createApiRateLimits({
    counters: container.rateLimits,
    perKey: config.rateLimitPerMinute,
    unauthenticated: config.rateLimitUnauthenticatedPerMinute,
    timeWindowMs: config.rateLimitWindowMs,
    isKnownKey: (secret) => container.auth.isKnownKey(secret),
    // The credential the auth hook will use: the bearer when there is one, else the session cookie.
    isChecked: (request) => {
      const secret = bearer(request.headers.authorization);
      return secret !== undefined ? container.auth.isChecked(secret) : consoleSessions.isChecked(request);
    },
  });
  limits.registerBeforeAuth(app);
  registerAuth(app, container.auth.authenticate, consoleSessions.authenticate);
  await limits.registerAfterAuth(app);
  registerKeyConcurrency(app, { perKey: config.maxConcurrentRequestsPerKey, queue: KEY_QUEUE_LENGTH });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Openroll API',
        version: '1.0.0',
        description: 'Enrollment tokens for Windows and Apple devices, compatible with the Applivery MDM API.',
      },
      servers: [{ url: config.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Statuses every route can answer beyond its own schema (lib/schemas.ts): documented only.
    transform: ({ schema, url, route }) => {
      if (!schema || schema.hide) return { schema, url };
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      return { schema: { ...schema, response: { ...serverWideResponses(method), ...(schema.response as Record<string, unknown> | undefined) } }, url };
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, transformStaticCSP: docsCsp(https) });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { ping: container.database.ping });
  await app.register(metricsRoutes, { metrics: container.metrics, token: config.metricsToken });
  await app.register(enrollPageRoutes, { pages: container.enrollPages, wrongLinkLimit: { max: 20, timeWindowMs: 10 * 60_000 } });
  await registerConsole(app, {
    sessions: container.consoleSessions,
    authenticator: consoleSessions,
    rateLimitPerMinute: container.config.rateLimitPerMinute,
    isCheckedKey: (key) => container.auth.isChecked(key),
  });
  await app.register(apiKeysRoutes, { apiKeys: container.apiKeys });
  await app.register(mdmUsersRoutes, { mdmUsers: container.mdmUsers });
  for (const platform of PLATFORMS) {
    await app.register(enterprisesRoutes, { enterprises: container.enterprises, platform });
    await app.register(policiesRoutes, { policies: container.policies, platform });
  }
  await app.register(vppLocationsRoutes, { vppLocations: container.vppLocations });
  await app.register(pushCertificateRoutes, { pushCertificates: container.pushCertificates });
  await app.register(devicesRoutes, { platform: 'apple', devices: container.appleDevices });
  // Failed device authentications per address, one count for both platforms (and every process).
  const deviceAuthLimit = createDeviceAuthLimit({ counters: container.rateLimits, max: DEVICE_AUTH_FAILURES.max, timeWindowMs: DEVICE_AUTH_FAILURES.timeWindowMs });
  await app.register(appleProtocolRoutes, {
    deviceAuthLimit,
    profiles: container.appleProfiles,
    scep: container.appleScep,
    checkIn: container.appleCheckIn,
    mdm: container.appleMdm,
    pages: {
      forSecret: async (secret) => renderEnrollPage(await container.enrollPages.pageFor(secret)),
      notFound: () => renderEnrollPage({ kind: 'not-found' }),
      rateLimited: () => renderEnrollPage({ kind: 'rate-limited' }),
    },
    wrongLinkLimit: { max: 20, timeWindowMs: 10 * 60_000 },
  });
  await app.register(segmentsRoutes, { segments: container.segments });
  await app.register(dashboardRoutes, { dashboard: container.dashboard });
  await app.register(webhooksRoutes, { webhooks: container.webhooks });
  for (const platform of PLATFORMS) {
    await app.register(enrollmentTokenRoutes, { platform, tokens: container.tokens, lifecycle: container.tokenLifecycle });
  }
  await app.register(devicesRoutes, { platform: 'windows', devices: container.windowsDevices });
  await app.register(deviceCommandsRoutes, { commands: container.deviceCommands });
  await app.register(windowsRoutes, {
    enrollment: container.windowsEnrollment,
    management: container.windowsManagement,
    bodyLimit: Math.min(config.bodyLimit, 512 * 1024),
    wrongCodeLimit: { perUser: WRONG_CODES_PER_USER, perAddress: WRONG_CODES_PER_ADDRESS, timeWindowMs: WRONG_CODE_WINDOW_MS },
    counters: container.rateLimits,
    certificateOf: createCertificateSource({ header: config.mdmClientCertHeader, trustProxy: config.trustProxy }),
    deviceAuthLimit,
  });
  for (const plugin of routes) await app.register(plugin, { container });
  return app;
}
