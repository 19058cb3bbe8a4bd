import { createChangeListener } from '../db/change-listener.ts';
import type { Database } from '../db/client.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { digestsEqual, sha256 } from '../lib/secrets.ts';
import { DISPLAY_PREFIX_LENGTH, grantsOf, KEY_PREFIX } from './api-key-credentials.ts';
import { findKeysByPrefix } from './api-key-lookup.repo.ts';
import type { AuthContext } from './auth-context.ts';

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
export function createAuthenticator(deps: { database: Database; clock: Clock }) {
  // Keyed by the key's SHA-256, never by the key itself.
  const cache = new Map<string, CachedAuth>();
  // A payload is a key id, or "org:<id>" for every key of an organization; none: every key.
  const changes = createChangeListener(deps.database.listen, API_KEYS_CHANNEL, (payload) => {
    const match =
      payload === undefined ? () => true : payload.startsWith('org:') ? (auth: AuthContext) => auth.organization.id === payload.slice(4) : (auth: AuthContext) => auth.keyId === payload;
    for (const [k, entry] of cache) if (match(entry.auth)) cache.delete(k);
  });

  const checkExpiry = (expiresAt: Date | null) => {
    if (expiresAt && expiresAt.getTime() <= deps.clock.now().getTime()) throw new AppError('TOKEN_EXPIRED');
  };

  return {
    /** Resolves a bearer key: 4004 for unknown or revoked keys, 4005 past the key's expiry. */
    async authenticate(secret: string): Promise<AuthContext> {
      if (!secret.startsWith(KEY_PREFIX) || secret.length < DISPLAY_PREFIX_LENGTH || secret.length > 256) {
        throw new AppError('INVALID_TOKEN');
      }
      const digest = sha256(secret);
      const cacheKey = digest.toString('hex');
      const hit = changes.hearing() ? cache.get(cacheKey) : undefined;
      if (hit && hit.until > Date.now()) {
        checkExpiry(hit.keyExpiresAt);
        return hit.auth;
      }
      const heardBefore = changes.heard();
      const candidates = await findKeysByPrefix(deps.database.db, secret.slice(0, DISPLAY_PREFIX_LENGTH));
      const match = candidates.find((c) => digestsEqual(c.key.keyHash, digest));
      if (!match || match.key.revokedAt) throw new AppError('INVALID_TOKEN');
      checkExpiry(match.key.expiresAt);
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

    /** Forgets a revoked key at once instead of at the end of its cache time. */
    forget(keyId: string): void {
      changes.drop(keyId);
    },

    /** Listens for changes to keys and organizations; the cache is used only while it hears them. */
    watchChanges: changes.watch,
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
