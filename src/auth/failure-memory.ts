import type { ErrorName } from '../errors.ts';

/** How long a failure is remembered, and how many at most (the oldest are forgotten first). */
const REMEMBER_MS = 10 * 60_000;
const ENTRIES = 10_000;

/**
 * Credentials that carry a valid check (credential-check.ts) but failed their lookup: revoked,
 * expired, signed out or never stored. Each such failure is final (a revoked key is never
 * restored, an expiry never moves, an ended session is deleted), so a process may remember it
 * without hearing from the others: no process can make it wrong. The next attempt with the same
 * credential is answered without the database, which keeps a checked but dead credential from
 * costing one lookup per request, and tells the per-address limit to treat it as a bad one.
 * Keyed by the credential's SHA-256, never by the credential.
 */
export function createFailureMemory(now: () => number = Date.now) {
  const failures = new Map<string, { code: ErrorName; until: number }>();
  return {
    remember(digest: Buffer, code: ErrorName): void {
      const key = digest.toString('hex');
      failures.delete(key);
      if (failures.size >= ENTRIES) failures.delete(failures.keys().next().value!);
      failures.set(key, { code, until: now() + REMEMBER_MS });
    },
    /** The code the credential failed with, when it failed moments ago. */
    recall(digest: Buffer): ErrorName | undefined {
      const key = digest.toString('hex');
      const entry = failures.get(key);
      if (!entry) return undefined;
      if (entry.until > now()) return entry.code;
      failures.delete(key);
      return undefined;
    },
  };
}

export type FailureMemory = ReturnType<typeof createFailureMemory>;
