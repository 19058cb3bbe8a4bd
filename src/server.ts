import net from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, type BuildAppOptions } from './app.ts';
import { listenUrl, type Config } from './config.ts';
import { createContainer, type Container } from './container.ts';
import { openDatabase, type Database } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { systemClock } from './lib/clock.ts';
import { loggerOptions } from './logger.ts';
import { loadSecretKey } from './pki/secret-key.ts';
import { startBackgroundJobs } from './jobs.ts';

export interface RunningServer {
  app: FastifyInstance;
  container: Container;
  database: Database;
  url: string;
  close(): Promise<void>;
}

/** A free port, for PORT=0 when the links must name the port before the server listens. */
async function freePort(host: string): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, host, resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Opens the database, migrates it, builds the app and listens. The embedded database is opened
 * as its directory's only owner: a second server on it gets DataDirBusyError, having written nothing.
 */
export async function startServer(given: Config, options: Pick<BuildAppOptions, 'routes'> = {}): Promise<RunningServer> {
  // On PostgreSQL the operator gives the server key: without it, stop before connecting.
  if (given.databaseUrl) loadSecretKey(given);
  const database = await openDatabase({
    databaseUrl: given.databaseUrl,
    dataDir: given.dataDir,
    poolSize: given.databasePoolSize,
    statementTimeoutMs: given.writeStatementTimeoutMs,
    command: 'openroll serve',
    whenOwned: 'refuse',
  });
  try {
    return await serveOn(database, given, options);
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

async function serveOn(database: Database, given: Config, options: Pick<BuildAppOptions, 'routes'>): Promise<RunningServer> {
  let config = given;
  await runMigrations(database);
  if (config.port === 0 && config.publicUrlFromListen) {
    const port = await freePort(config.host);
    config = { ...config, port, publicUrl: listenUrl(config.host, port) };
  }
  const log = pino(loggerOptions(config)) as FastifyBaseLogger;
  // The server key is read (or made, on the embedded database) once this process owns the directory.
  const secretKey = loadSecretKey(config);
  const container = createContainer({ config, database, clock: systemClock, log, secretKey });
  const stopWatchingKeys = await container.auth.watchChanges();
  const stopWatchingPolicies = await container.policyCache.watchChanges();
  const stopWatchingEndpoints = await container.webhookEndpoints.watchChanges();
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
        await stopWatchingKeys();
        await stopWatchingPolicies();
        await stopWatchingEndpoints();
        await container.statistics.settled();
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
