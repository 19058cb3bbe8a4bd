import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PACKAGE_ROOT } from '../package-root.ts';
import type { ConsoleSessionsService } from './console-sessions.service.ts';
import { consoleSessionRoutes } from './console-session.routes.ts';
import { consoleStaticRoutes } from './console-static.routes.ts';
import type { SessionAuthenticator } from './session-auth.ts';

/** Where `npm run console:build` (run by npm ci and, when outdated, by npm start) writes the console. */
export const CONSOLE_DIST_DIR = path.join(PACKAGE_ROOT, 'console', 'dist');

export interface ConsoleOptions {
  sessions: ConsoleSessionsService;
  authenticator: SessionAuthenticator;
  /** The per-key API budget (config.rateLimitPerMinute): sign-ins get a share of it. */
  rateLimitPerMinute: number;
  /** Whether an API key carries this server's check (auth/authenticator.ts). */
  isCheckedKey: (key: string) => boolean;
  distDir?: string;
}

/** The admin console: its session routes and its static files, both under /console/. */
export async function registerConsole(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  // A twentieth of the per-key API budget: 30 sign-ins a minute by default, none when it is off.
  const perMinute = options.rateLimitPerMinute;
  await app.register(consoleSessionRoutes, {
    sessions: options.sessions,
    authenticator: options.authenticator,
    signInsPerMinute: perMinute === 0 ? 0 : Math.max(5, Math.ceil(perMinute / 20)),
    isCheckedKey: options.isCheckedKey,
  });
  await app.register(consoleStaticRoutes, { distDir: options.distDir ?? CONSOLE_DIST_DIR });
}
