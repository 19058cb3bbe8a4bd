// Types of scripts/throwaway-postgres.mjs for the TypeScript tests that import it.

export interface ThrowawayPostgresStarted {
  ok: true;
  /** e.g. postgres://postgres@127.0.0.1:54321/postgres (trust auth, no password) */
  url: string;
  version: string;
  host: string;
  port: number;
  dataDir: string;
  binDir: string;
  /** Stops the server and removes dataDir; idempotent, never throws. */
  stop(): Promise<void>;
  /** Stops the server and keeps dataDir (default mode `immediate`: a crash). */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again on the same dataDir and port and waits until it answers. */
  restart(): Promise<void>;
}

export interface ThrowawayPostgresUnavailable {
  ok: false;
  reason: string;
}

export type ThrowawayPostgresResult = ThrowawayPostgresStarted | ThrowawayPostgresUnavailable;

/** durable keeps PostgreSQL's default fsync and commit settings instead of the fast, crash-unsafe ones. */
export function startThrowawayPostgres(options?: { log?: (message: string) => void; durable?: boolean }): Promise<ThrowawayPostgresResult>;

export function stopThrowawayPostgres(dataDir: string, options?: { log?: (message: string) => void }): Promise<{ ok: true } | { ok: false; reason: string }>;

export function findPostgresBinDir(): { binDir: string } | { reason: string };
