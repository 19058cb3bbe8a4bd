import type { Database } from '../db/client.ts';
import { AppError, type ErrorName } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { digestsEqual, randomToken, sha256 } from '../lib/secrets.ts';
import { grantsOf } from '../auth/api-key-credentials.ts';
import type { AuthContext } from '../auth/auth-context.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { CredentialCheck } from '../auth/credential-check.ts';
import { createFailureMemory } from '../auth/failure-memory.ts';
import { expandGrants } from '../permissions.ts';
import { createConsoleSessionsRepo } from './console-sessions.repo.ts';

/** A session unused this long ends: an unattended browser does not stay signed in. */
export const SESSION_IDLE_MS = 60 * 60_000;
/** And none lasts longer than a working day, however busy. */
export const SESSION_MAX_MS = 12 * 60 * 60_000;
/** Idle time is tracked to the minute, so a busy console writes once a minute, not per request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * `<organization id>.<secret>.<check>`: the check (auth/credential-check.ts) tells a cookie this
 * server made from a guess without the database. Sessions made before it have no check and
 * still work until they end (12 hours at most), as guesses do: looked up within the address's
 * budget of failed requests.
 */
const COOKIE_VALUE = /^([0-9a-f]{24})\.([A-Za-z0-9_-]{43})(?:\.([A-Za-z0-9_-]{22}))?$/;

export interface ConsoleSessionView {
  organization: { id: string; slug: string; name: string };
  key: { id: string; name: string; prefix: string };
  /** Every permission the key holds, wildcards expanded: what the console shows and allows. */
  permissions: string[];
  /** Sent back in the `x-csrf-token` header of every state-changing request. */
  csrfToken: string;
  expiresAt: string;
  idleTimeoutSeconds: number;
}

export interface SessionAuth {
  auth: AuthContext;
  csrfToken: string;
  view: ConsoleSessionView;
}

/**
 * Derived from the cookie's secret, so it needs no storage, proves the caller could read the
 * session's own answer (which another site cannot), and reveals nothing about the secret.
 */
function csrfTokenOf(secret: string): string {
  return sha256(`openroll-console-csrf:${secret}`).toString('base64url');
}

export function csrfTokensEqual(expected: string, given: string): boolean {
  return digestsEqual(sha256(expected), sha256(given));
}

interface ParsedCookie {
  organizationId: string;
  secret: string;
  secretHash: Buffer;
  /** The cookie carries this server's valid check. */
  checked: boolean;
}

/** What a session shows of the key it was opened with: read through the API keys' service (container.ts). */
export type CallerKey = (auth: AuthContext) => Promise<{ id: string; name: string; prefix: string } | undefined>;

export function createConsoleSessionsService(deps: { database: Database; clock: Clock; auth: Authenticator; check: CredentialCheck; callerKey: CallerKey }) {
  const repo = () => createConsoleSessionsRepo(deps.database.db);
  // Checked cookies whose session failed: final (an ended session is deleted, a revoked key stays so).
  const failures = createFailureMemory();

  /** The cookie's parts; undefined when it is malformed or its check is wrong (no lookup then). */
  const parseCookie = (value: string): ParsedCookie | undefined => {
    const match = COOKIE_VALUE.exec(value);
    if (!match) return undefined;
    const [, organizationId, secret, check] = match as unknown as [string, string, string, string | undefined];
    if (check !== undefined && !deps.check.verify('console-session', `${organizationId}.${secret}`, check)) return undefined;
    return { organizationId, secret, secretHash: sha256(secret), checked: check !== undefined };
  };

  /** The session's caller, or why there is none now and from then on (an ended session is deleted). */
  async function lookup(parsed: ParsedCookie): Promise<SessionAuth | { now: ErrorName; after: ErrorName }> {
    const found = await repo().find(parsed.organizationId, parsed.secretHash);
    if (!found) return { now: 'INVALID_TOKEN', after: 'INVALID_TOKEN' };
    const { session, key, organization } = found;
    const now = deps.clock.now();
    if (session.expiresAt.getTime() <= now.getTime() || session.lastSeenAt.getTime() + SESSION_IDLE_MS <= now.getTime()) {
      await repo().delete(parsed.organizationId, parsed.secretHash);
      return { now: 'TOKEN_EXPIRED', after: 'INVALID_TOKEN' };
    }
    if (key.revokedAt) return { now: 'INVALID_TOKEN', after: 'INVALID_TOKEN' };
    if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return { now: 'TOKEN_EXPIRED', after: 'TOKEN_EXPIRED' };
    if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await repo().touch(parsed.organizationId, parsed.secretHash, now);
    const auth: AuthContext = { keyId: key.id, organization, grants: grantsOf(key) };
    return { auth, csrfToken: csrfTokenOf(parsed.secret), view: viewOf(auth, key, parsed.secret, session.expiresAt) };
  }

  const viewOf = (auth: AuthContext, key: { id: string; name: string; prefix: string }, secret: string, expiresAt: Date): ConsoleSessionView => ({
    organization: { id: auth.organization.id, slug: auth.organization.slug, name: auth.organization.name },
    key: { id: key.id, name: key.name, prefix: key.prefix },
    permissions: expandGrants(auth.grants),
    csrfToken: csrfTokenOf(secret),
    expiresAt: expiresAt.toISOString(),
    idleTimeoutSeconds: SESSION_IDLE_MS / 1000,
  });

  return {
    /** Exchanges an API key (401 when it is unknown, revoked or expired) for a new session. */
    async signIn(apiKey: string): Promise<{ cookieValue: string; view: ConsoleSessionView; maxAgeSeconds: number }> {
      const auth = await deps.auth.authenticate(apiKey);
      const key = await deps.callerKey(auth);
      if (!key) throw new AppError('INVALID_TOKEN');
      const now = deps.clock.now();
      const secret = randomToken(32);
      const expiresAt = new Date(now.getTime() + SESSION_MAX_MS);
      await repo().deleteEnded(auth.organization.id, now, new Date(now.getTime() - SESSION_IDLE_MS));
      await repo().insert({ organizationId: auth.organization.id, secretHash: sha256(secret), apiKeyId: key.id, createdAt: now, lastSeenAt: now, expiresAt });
      const body = `${auth.organization.id}.${secret}`;
      return { cookieValue: `${body}.${deps.check.seal('console-session', body)}`, view: viewOf(auth, key, secret, expiresAt), maxAgeSeconds: SESSION_MAX_MS / 1000 };
    },

    /**
     * The caller behind a session cookie: 4004 for an unknown session or a revoked key, 4005 for
     * a session past its idle or absolute end (it is deleted) or a key past its expiry.
     */
    async authenticate(cookieValue: string): Promise<SessionAuth> {
      const parsed = parseCookie(cookieValue);
      if (!parsed) throw new AppError('INVALID_TOKEN');
      const digest = sha256(cookieValue);
      const failed = parsed.checked ? failures.recall(digest) : undefined;
      if (failed) throw new AppError(failed);
      const found = await lookup(parsed);
      if ('auth' in found) return found;
      if (parsed.checked) failures.remember(digest, found.after);
      throw new AppError(found.now);
    },

    /**
     * Whether the cookie carries this server's valid check and its session has not failed
     * moments ago (one HMAC, no database): the per-address limit lets it through.
     */
    isChecked(cookieValue: string): boolean {
      const parsed = parseCookie(cookieValue);
      return parsed !== undefined && parsed.checked && failures.recall(sha256(cookieValue)) === undefined;
    },

    /** Ends the session on the server; the cookie is worthless from then on. */
    async signOut(cookieValue: string): Promise<boolean> {
      const parsed = parseCookie(cookieValue);
      return parsed ? repo().delete(parsed.organizationId, parsed.secretHash) : false;
    },
  };
}

export type ConsoleSessionsService = ReturnType<typeof createConsoleSessionsService>;
