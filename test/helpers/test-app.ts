import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type BuildAppOptions } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import type { HostResolver } from '../../src/webhooks/address-policy.ts';
import { createTableResolver } from './resolver.ts';
import { createTestDatabase, type TestDatabase } from './test-db.ts';

export type ManualClock = ReturnType<typeof createManualClock>;

export interface TestContext {
  app: FastifyInstance;
  container: Container;
  config: Config;
  clock: ManualClock;
  db: TestDatabase;
  close(): Promise<void>;
}

/** The app over a fresh database, a manual clock and test configuration; one per test file. */
export async function buildTestApp(overrides: Partial<Config> = {}, extra: { mailer?: Mailer; db?: TestDatabase; resolveHost?: HostResolver; routes?: BuildAppOptions['routes']; apnsCa?: string } = {}): Promise<TestContext> {
  const db = extra.db ?? (await createTestDatabase());
  // A fresh server key per app: tests never write a key file into the repository's DATA_DIR.
  const config: Config = { ...loadConfig({ PUBLIC_URL: 'https://mdm.example.test', LOG_LEVEL: 'silent' }), secretKey: randomBytes(32), ...overrides };
  const clock = createManualClock(new Date('2026-03-01T10:00:00.000Z'));
  // Webhook hosts resolve from a table, never through real DNS.
  const resolveHost = extra.resolveHost ?? createTableResolver();
  const container = createContainer({ config, database: db.database, clock, resolveHost, ...(extra.mailer ? { mailer: extra.mailer } : {}), ...(extra.apnsCa ? { apnsCa: extra.apnsCa } : {}) });
  const app = await buildApp({ container, ...(extra.routes ? { routes: extra.routes } : {}) });
  return {
    app,
    container,
    config,
    clock,
    db,
    close: async () => {
      await app.close();
      await container.statistics.settled();
      await db.drop();
    },
  };
}

export interface Json {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  headers: LightMyRequestResponse['headers'];
}

/** `inject` with a bearer key and a parsed JSON body. */
export async function call(app: FastifyInstance, key: string | undefined, options: InjectOptions): Promise<Json> {
  const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const res = await app.inject({ ...options, headers });
  let body: unknown;
  try {
    body = res.json();
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, body, headers: res.headers };
}
