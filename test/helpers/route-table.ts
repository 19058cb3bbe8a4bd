import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import type { Permission } from '../../src/permissions.ts';
import type { TestContext } from './test-app.ts';

/** One registered route as the app declared it: what the route-driven suites are generated from. */
export interface AppRoute {
  method: string;
  url: string;
  /** `METHOD url`, the key of the suites' per-route tables. */
  key: string;
  permission: Permission | undefined;
  schema: FastifySchema | undefined;
}

export interface RoutedApp {
  app: FastifyInstance;
  routes: AppRoute[];
  /** The routes that require a permission, i.e. every authenticated route. */
  authenticated: AppRoute[];
}

/**
 * A second app over the test context's container, built with an `onRoute` observer so the
 * suite sees every route exactly as registered (HEAD twins of GET routes included), and then
 * exercises that same instance. Close it before the context.
 */
export async function buildRoutedApp(ctx: TestContext): Promise<RoutedApp> {
  const routes: AppRoute[] = [];
  const onRoute = (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      routes.push({
        method,
        url: route.url,
        key: `${method} ${route.url}`,
        permission: route.config?.permission,
        schema: route.schema,
      });
    }
  };
  const app = await buildApp({ container: ctx.container, onRoute });
  await app.ready();
  return { app, routes, authenticated: routes.filter((r) => r.permission !== undefined) };
}

/** The path of a route with its parameters filled in (values are URL-encoded). */
export function fillPath(url: string, params: Record<string, string | number>): string {
  return url.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${url}`);
    return encodeURIComponent(String(value));
  });
}
