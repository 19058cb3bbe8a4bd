import { createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export interface SecurityHeadersOptions {
  /** HSTS is sent only when the server is reached over https (PUBLIC_URL). */
  https: boolean;
  /** CSP sources for the inline `<style>` blocks the server's own pages carry. */
  styleSources: string[];
}

/** The CSP source (`'sha256-...'`) of every inline `<style>` block of an HTML document. */
export function inlineStyleSources(html: string): string[] {
  return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1] ?? '').digest('base64')}'`);
}

/**
 * Security headers on every response, errors and 404s included. The API answers JSON and the
 * enrollment page is plain HTML with one inline style and no scripts, so the policy grants
 * nothing but that style. /docs keeps the CSP of @fastify/swagger-ui (`staticCSP`), which the
 * route sets after this one.
 */
export async function registerSecurityHeaders(app: FastifyInstance, options: SecurityHeadersOptions): Promise<void> {
  // API keys, enrollment links and codes travel in responses: no cache, shared or private, may
  // keep one. Set on every answer (a route may loosen it), so a new route cannot forget it.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: options.styleSources.length > 0 ? options.styleSources : ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    // Sent over plain http it would be ignored anyway; over https it pins the browser to TLS.
    hsts: options.https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
  });
}

/**
 * swagger-ui's own CSP asks browsers to upgrade every request to https; on a plain-http
 * deployment (a laptop, a lab) that breaks /docs, so it is dropped there.
 */
export function docsCsp(https: boolean): (header: string) => string {
  return (header) => (https ? header : header.replace(/\s*upgrade-insecure-requests;?/, ''));
}
