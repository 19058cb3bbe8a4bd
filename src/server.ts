import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, type BuildAppOptions } from './app.ts';
import type { Config } from './config.ts';
import { createContainer, type Container } from './container.ts';
import { openDatabase, type Database } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { systemClock } from './lib/clock.ts';
import { loggerOptions } from './logger.ts';
import { startBackgroundJobs } from './jobs.ts';

export interface RunningServer {
  app: FastifyInstance;
  container: Container;
  database: Database;
  url: string;
  close(): Promise<void>;
}

/** Opens the database, migrates it, builds the app and listens. */
export async function startServer(config: Config, options: Pick<BuildAppOptions, 'routes'> = {}): Promise<RunningServer> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  await runMigrations(database, config.databaseUrl);
  const log = pino(loggerOptions(config)) as FastifyBaseLogger;
  const container = createContainer({ config, database, clock: systemClock, log });
  const app = await buildApp({ container, logger: log, ...options });
  const jobs = startBackgroundJobs(container, app.log);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  const server: RunningServer = {
    app,
    container,
    database,
    url: `http://${host}:${port}`,
    close: () =>
      (closing ??= (async () => {
        // In-flight requests finish first; then the jobs stop; the database closes last.
        await app.close();
        await jobs.stop();
        await database.close();
      })()),
  };
  return server;
}

/** Graceful shutdown on SIGTERM and SIGINT; a second signal forces the exit. */
export function closeOnSignals(server: RunningServer): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
