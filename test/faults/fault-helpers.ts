import type { ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';
import { startServerProcess, type ServerProcess } from '../helpers/processes.ts';
import { TEST_PG_URL } from '../helpers/test-db.ts';

/**
 * Shared by the fault-injection suites (npm run test:faults). They run on PostgreSQL only:
 * crashes, outages and races are about what a real server with a real pool does.
 */
export function requirePostgres(): string {
  if (!TEST_PG_URL) {
    throw new Error(
      'The fault tests need PostgreSQL: set OPENROLL_TEST_DATABASE_URL (postgres://...), or run `npm run test:faults`, which starts a throwaway server when initdb is installed.',
    );
  }
  return TEST_PG_URL;
}

/** The one-line account a fault test gives of what it injected and what survived. */
export function report(name: string, facts: Record<string, string | number>): void {
  const parts = Object.entries(facts).map(([k, v]) => `${k}=${v}`);
  console.log(`faults: ${name} ${parts.join(' ')}`);
}

export interface HttpResult {
  /** 0 when no response arrived (connection refused or reset, or the timeout). */
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- bodies are asserted field by field
  ms: number;
  /** Why there is no response, when there is none. */
  failure?: string;
}

export interface HttpOptions {
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** One request to a server on loopback; never throws, a missing response is status 0. */
export async function http(baseUrl: string, method: string, path: string, options: HttpOptions = {}): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`fault tests talk to 127.0.0.1 only, not ${url.hostname}`);
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text for the assertion message
    }
    return { status: res.status, body, ms: performance.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const failure = (error as Error).name === 'TimeoutError' ? 'timeout' : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { status: 0, body: undefined, ms: performance.now() - started, failure };
  }
}

/** The admin key `openroll serve` prints when it bootstraps the demo organization. */
export function demoKey(server: ServerProcess): string {
  const match = /admin API key, shown only now: (\S+)/.exec(server.output());
  if (!match) throw new Error(`the server printed no demo key:\n${server.output()}`);
  return match[1]!;
}

/**
 * `openroll serve` on a free loopback port, quiet except for warnings and errors. The per-key
 * rate limit is off: these tests load one key on purpose, and a 429 would hide what they test.
 */
export function startServer(env: Record<string, string>): Promise<ServerProcess> {
  return startServerProcess({ HOST: '127.0.0.1', LOG_LEVEL: 'warn', PUBLIC_URL: 'https://mdm.example.test', RATE_LIMIT_PER_MINUTE: '0', ...env });
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILL: no shutdown hook, no flush, no rollback from the process itself. */
export async function killHard(server: ServerProcess): Promise<void> {
  if (isRunning(server.child)) server.child.kill('SIGKILL');
  await server.exited;
}

/** Stops a server that is still running, gracefully; used in cleanup. */
export async function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server || !isRunning(server.child)) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Rows of a raw query on the test's own database (counts and checks the API does not expose). */
export async function rows<T = Record<string, unknown>>(database: Database, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await database.db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export async function count(database: Database, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await rows<{ n: number | string }>(database, query);
  return Number(row?.n ?? 0);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
