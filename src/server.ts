import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createSecureContext } from 'node:tls';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, type BuildAppOptions } from './app.ts';
import { ConfigError, deviceSessionNotice, listenUrl, type Config } from './config.ts';
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

function readTlsFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${path}`);
  }
}

/** The server's certificate and key for its own HTTPS, read and checked before anything opens. */
export function loadTls(config: Pick<Config, 'tls'>): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tls) return undefined;
  const cert = readTlsFile('TLS_CERT_FILE', config.tls.certFile);
  const key = readTlsFile('TLS_KEY_FILE', config.tls.keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError('TLS_CERT_FILE', `and TLS_KEY_FILE must hold a PEM certificate (chain) and its private key: ${(error as Error).message}`);
  }
  return { cert, key };
}

/**
 * Opens the database, migrates it, builds the app and listens. The embedded database is opened
 * as its directory's only owner: a second server on it gets DataDirBusyError, having written nothing.
 */
export async function startServer(given: Config, options: Pick<BuildAppOptions, 'routes'> = {}): Promise<RunningServer> {
  // On PostgreSQL the operator gives the server key: without it, stop before connecting.
  if (given.databaseUrl) loadSecretKey(given);
  const tls = loadTls(given);
  const database = await openDatabase({
    databaseUrl: given.databaseUrl,
    dataDir: given.dataDir,
    poolSize: given.databasePoolSize,
    statementTimeoutMs: given.writeStatementTimeoutMs,
    command: 'openroll serve',
    whenOwned: 'refuse',
  });
  try {
    return await serveOn(database, given, { ...options, ...(tls ? { tls } : {}) });
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

async function serveOn(database: Database, given: Config, options: Pick<BuildAppOptions, 'routes' | 'tls'>): Promise<RunningServer> {
  let config = given;
  await runMigrations(database);
  if (config.port === 0 && config.publicUrlFromListen) {
    const port = await freePort(config.host);
    config = { ...config, port, publicUrl: listenUrl(config.host, port, config.tls !== undefined) };
  }
  const log = pino(loggerOptions(config)) as FastifyBaseLogger;
  // The server key is read (or made, on the embedded database) once this process owns the directory.
  const secretKey = loadSecretKey(config);
  const container = createContainer({ config, database, clock: systemClock, log, secretKey });
  const stopWatchingKeys = await container.auth.watchChanges();
  const stopWatchingPolicies = await container.policyCache.watchChanges();
  const stopWatchingEndpoints = await container.webhookEndpoints.watchChanges();
  const app = await buildApp({ container, logger: log, ...options });
  const sessions = deviceSessionNotice(config);
  app.log[sessions.level](sessions.message);
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
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
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
