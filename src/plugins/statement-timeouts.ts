import type { FastifyInstance } from 'fastify';
import { withStatementTimeout } from '../db/statement-timeout.ts';

/**
 * Bounds every database statement a request makes: reads by STATEMENT_TIMEOUT_MS, writes
 * (bulks included) by WRITE_STATEMENT_TIMEOUT_MS. A statement past its bound is stopped and the
 * request answers 503 with code 3004, so one slow request cannot hold the database for the rest.
 * Registered first, so the authentication's own queries are bounded too.
 */
export function registerStatementTimeouts(app: FastifyInstance, bounds: { readMs: number; writeMs: number }): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const read = request.method === 'GET' || request.method === 'HEAD';
    withStatementTimeout(read ? bounds.readMs : bounds.writeMs, done);
  });
}
