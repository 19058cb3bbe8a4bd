import { createChangeListener } from '../db/change-listener.ts';
import type { Database } from '../db/client.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { digestsEqual, sha256 } from '../lib/secrets.ts';
import { checkHolds, DISPLAY_PREFIX_LENGTH, grantsOf, hasCheckLength, looksLikeKey } from './api-key-credentials.ts';
import { findKeysByPrefix } from './api-key-lookup.repo.ts';
import type { AuthContext } from './auth-context.ts';
import type { CredentialCheck } from './credential-check.ts';
import { createFailureMemory } from './failure-memory.ts';

/**
 * Authenticated keys are remembered briefly so that a busy client costs no database round trip
 * per request, but only while the process hears every change to keys and organizations (a
 * NOTIFY from migrations/0007, whoever made it: the API, the command line, another server).
 * Then a revoked key answers 401 on its next request everywhere; without that channel, every
 * request reads the key from the database.
 */
export const AUTH_CACHE_MS = 5_000;
/** The channel migrations/0007 notifies with a key id, or "org:<id>", on every change. */
export const API_KEYS_CHANNEL = 'openroll_api_keys';
const AUTH_CACHE_ENTRIES = 10_000;

interface CachedAuth {
  auth: AuthContext;
  keyExpiresAt: Date | null;
  until: number;
}

/** Turns a bearer key into the caller's AuthContext. */
export function createAuthenticator(deps: { database: Database; clock: Clock; check: CredentialCheck }) {
  // Keyed by the key's SHA-256, never by the key itself.
  const cache = new Map<string, CachedAuth>();
  // Keys with a valid check that failed their lookup: final answers, kept without the listener.
  const failures = createFailureMemory();
  // A payload is a key id, or "org:<id>" for every key of an organization; none: every key.
  const changes = createChangeListener(deps.database.listen, API_KEYS_CHANNEL, (payload) => {
    const match =
      payload === undefined ? () => true : payload.startsWith('org:') ? (auth: AuthContext) => auth.organization.id === payload.slice(4) : (auth: AuthContext) => auth.keyId === payload;
    for (const [k, entry] of cache) if (match(entry.auth)) cache.delete(k);
  });

  const expired = (expiresAt: Date | null) => expiresAt !== null && expiresAt.getTime() <= deps.clock.now().getTime();
  const checkExpiry = (expiresAt: Date | null) => {
    if (expired(expiresAt)) throw new AppError('TOKEN_EXPIRED');
  };

  return {
    /** Resolves a bearer key: 4004 for unknown or revoked keys, 4005 past the key's expiry. */
    async authenticate(secret: string): Promise<AuthContext> {
      if (!looksLikeKey(secret)) throw new AppError('INVALID_TOKEN');
      // A key of the checked length with a wrong check was not minted here: no lookup.
      const checked = hasCheckLength(secret);
      if (checked && !checkHolds(deps.check, secret)) throw new AppError('INVALID_TOKEN');
      const digest = sha256(secret);
      const cacheKey = digest.toString('hex');
      const hit = changes.hearing() ? cache.get(cacheKey) : undefined;
      if (hit && hit.until > Date.now()) {
        checkExpiry(hit.keyExpiresAt);
        return hit.auth;
      }
      const failed = checked ? failures.recall(digest) : undefined;
      if (failed) throw new AppError(failed);
      const heardBefore = changes.heard();
      const candidates = await findKeysByPrefix(deps.database.db, secret.slice(0, DISPLAY_PREFIX_LENGTH));
      const match = candidates.find((c) => digestsEqual(c.key.keyHash, digest));
      const failure = !match || match.key.revokedAt ? 'INVALID_TOKEN' : expired(match.key.expiresAt) ? 'TOKEN_EXPIRED' : undefined;
      if (!match || failure) {
        // Unknown, revoked and expired are final: a checked key is not looked up again for a while.
        if (checked) failures.remember(digest, failure ?? 'INVALID_TOKEN');
        throw new AppError(failure ?? 'INVALID_TOKEN');
      }
      const auth = { keyId: match.key.id, organization: match.organization, grants: grantsOf(match.key) };
      if (changes.hearing() && changes.heard() === heardBefore) {
        if (cache.size >= AUTH_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
        cache.set(cacheKey, { auth, keyExpiresAt: match.key.expiresAt, until: Date.now() + AUTH_CACHE_MS });
      }
      return auth;
    },

    /**
     * Whether this process verified the key moments ago and it still holds: an answer with no
     * database round trip, for the limit that runs before authentication. False whenever the
     * cache is not in use.
     */
    isKnownKey(secret: string): boolean {
      const hit = changes.hearing() ? cache.get(sha256(secret).toString('hex')) : undefined;
      if (!hit || hit.until <= Date.now()) return false;
      return !hit.keyExpiresAt || hit.keyExpiresAt.getTime() > deps.clock.now().getTime();
    },

    /**
     * Whether the key carries this server's valid check and has not failed moments ago: then it
     * is no guess, and the limit that runs before authentication lets it through to its lookup
     * whatever else came from its address. Costs one HMAC, no database round trip.
     */
    isChecked(secret: string): boolean {
      return checkHolds(deps.check, secret) && failures.recall(sha256(secret)) === undefined;
    },

    /** Forgets a revoked key at once instead of at the end of its cache time. */
    forget(keyId: string): void {
      changes.drop(keyId);
    },

    /** Listens for changes to keys and organizations; the cache is used only while it hears them. */
    watchChanges: changes.watch,
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
