import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import { ok, paginated } from '../src/lib/schemas.ts';
import { WinToken } from '../src/modules/enrollment-tokens/token.schemas.ts';

/**
 * The benchmark's ceiling: a route that answers a pre-built list page (captured from the real
 * list route into `file`) through the same response schema, with no authentication and no
 * database. What the framework and the machine can do at all; each scenario is reported as a
 * ratio to it. Registered by bench/bench-server.ts through buildApp's `routes` option.
 */
export function ceilingRoutes(file: string): FastifyPluginAsync {
  return async (app) => {
    let page: unknown;
    app.get('/bench/ceiling', { schema: { hide: true, response: { 200: ok(paginated(WinToken)) } } }, async () => {
      page ??= JSON.parse(await readFile(file, 'utf8'));
      return page;
    });
  };
}
