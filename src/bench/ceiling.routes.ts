import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok, paginated } from '../lib/schemas.ts';
import { WinToken } from '../modules/enrollment-tokens/token.schemas.ts';

/**
 * The benchmark's ceiling: a route that answers a pre-built list page (captured from the real
 * list route into `file`) through the same response schema, with no authentication and no
 * database. What the framework and the machine can do at all; each scenario is reported as a
 * ratio to it. Registered only when BENCH_CEILING_FILE is set.
 */
export const benchCeilingRoutes: FastifyPluginAsyncTypebox<{ file: string }> = async (app, { file }) => {
  let page: unknown;
  app.get('/bench/ceiling', { schema: { hide: true, response: { 200: ok(paginated(WinToken)) } } }, async () => {
    page ??= JSON.parse(await readFile(file, 'utf8'));
    return page as never;
  });
};
