import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

/**
 * The console's policy: its scripts and styles are files of this server (Vite emits no inline
 * code), it talks to this server only, and nothing may frame it. No 'unsafe-inline', no nonces.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = 'The admin console is not built. Run `npm run console:build` (npm ci and npm start do it), then reload.\n';

/**
 * Serves the built console (console/dist) at /console/: hashed assets cached for a year, and
 * index.html for /console and every other path under it (the router ignores trailing slashes), where the page's own router takes over.
 */
export const consoleStaticRoutes: FastifyPluginAsync<{ distDir: string }> = async (app, { distDir }) => {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP);
  });

  await app.register(fastifyStatic, {
    root: path.join(distDir, 'assets'),
    prefix: '/console/assets/',
    index: false,
    immutable: true,
    maxAge: '365d',
    decorateReply: false,
  });

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url.startsWith('/console/api/')) throw new AppError('ROUTE_NOT_FOUND');
    let html: string;
    try {
      html = await readFile(path.join(distDir, 'index.html'), 'utf8');
    } catch {
      return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  };
  // `/console` also answers `/console/` (ignoreTrailingSlash); the wildcard answers the rest.
  app.get('/console', { schema: { hide: true } }, page);
  app.get('/console/*', { schema: { hide: true } }, page);
};
