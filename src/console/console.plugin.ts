import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Container } from '../container.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { consoleSessionRoutes } from './console-session.routes.ts';
import { consoleStaticRoutes } from './console-static.routes.ts';
import type { SessionAuthenticator } from './session-auth.ts';

/** Where `npm run console:build` (run by npm ci and, when outdated, by npm start) writes the console. */
export const CONSOLE_DIST_DIR = path.join(PACKAGE_ROOT, 'console', 'dist');

/** The admin console: its session routes and its static files, both under /console/. */
export async function registerConsole(app: FastifyInstance, options: { container: Container; authenticator: SessionAuthenticator; distDir?: string }): Promise<void> {
  const { container, authenticator } = options;
  // A twentieth of the per-key API budget: 30 sign-ins a minute by default, none when it is off.
  const perMinute = container.config.rateLimitPerMinute;
  await app.register(consoleSessionRoutes, {
    sessions: container.consoleSessions,
    authenticator,
    signInsPerMinute: perMinute === 0 ? 0 : Math.max(5, Math.ceil(perMinute / 20)),
    isCheckedKey: (key) => container.auth.isChecked(key),
  });
  await app.register(consoleStaticRoutes, { distDir: options.distDir ?? CONSOLE_DIST_DIR });
}
