import type { AuthContext } from '../../auth/auth-context.ts';
import type { Database, Executor } from '../../db/client.ts';
import { AppError, ERRORS, notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { EmailLimits } from '../../limits/email-limits.ts';
import { isEmail, normalizeEmail } from '../../lib/email-address.ts';
import { idempotent } from '../../lib/idempotency.ts';
import { newId } from '../../lib/ids.ts';
import { dependentRows } from '../../db/bulk-insert.ts';
import { emailOutbox, tokenEvents, webhookDeliveries, type StoredAssignment } from '../../db/schema.ts';
import { createOutboxRepo, type NewOutboxRecord } from '../../mail/outbox.repo.ts';
import type { EndpointLookup } from '../../webhooks/endpoint-cache.ts';
import { enabledEndpoints } from '../../webhooks/webhooks.repo.ts';
import type { DeliveryEvent, DeliveryRows } from '../../mail/recipient-token.ts';
import { PLATFORM_NAMES, type Platform } from '../../platforms/platforms.ts';
import { createCertificatesRepo } from '../../pki/certificates.repo.ts';
import { createTokenEventsRepo, type NewTokenEvent, type TokenEventType } from './token-events.repo.ts';
import { enqueueWebhookEvents, webhookContextFor, webhookDeliveryRows, type TokenSnapshot } from './token-webhooks.ts';
import type { TokenInput, TokenPatch } from './token-input.ts';
import { createTokenReferencesRepo, type MdmUserRecord } from './token-references.repo.ts';
import { checkPlanAllows, createdChanges, insertTokenRows, loadReferences, newTokenRow, patchToColumns, remainingCapacity, updatedChanges, type NewTokenRow } from './token-rules.ts';
import { effectiveState, type TokenState } from './token-state.ts';
import { createTokenRepo, sweepExpiredTokens, type TokenRecord, type TokenRow } from './token.repo.ts';
import { renderRows, type LoadedReferences, type TokenView } from './token.views.ts';

/**
 * The one owner of a token's lifecycle. Every transition (issue, one or in bulk; update;
 * revoke; resend; expire; redeem) runs here and ends in recordTransitions(), which writes its
 * audit events and outbox rows in the transaction of the change.
 */

/**
 * One change of a token, as its audit trail records it. An `email.queued` transition carries
 * its recipient: recordTransitions writes its outbox row and puts the row's id in the event.
 */
export type TokenTransition =
  | { tokenId: string; type: Exclude<TokenEventType, 'email.queued'>; actorKeyId: string | null; at: Date; changes: Record<string, unknown> }
  | { tokenId: string; type: 'email.queued'; actorKeyId: string | null; at: Date; recipient: string };

/** What transitions write: their audit events, and an outbox row for each queued email. */
function transitionRows(organizationId: string, events: TokenTransition[]): { trail: NewTokenEvent[]; emails: NewOutboxRecord[] } {
  const emails: NewOutboxRecord[] = [];
  const trail: NewTokenEvent[] = events.map((event) => {
    if (event.type !== 'email.queued') return event;
    const { recipient, ...rest } = event;
    const email = { id: newId(), organizationId, tokenId: event.tokenId, recipient, status: 'pending', attempts: 0, nextAttemptAt: event.at, createdAt: event.at, updatedAt: event.at };
    emails.push(email);
    return { ...rest, changes: { emailId: email.id } };
  });
  return { trail, emails };
}

/**
 * The single place a transition of an existing token is recorded: its audit event, for an
 * email its outbox row, and its webhook deliveries, in `tx` (the transaction of the change itself). Returns the outbox rows
 * it queued. New tokens are recorded with their insert (insertIssued), from the same rows.
 */
async function recordTransitions(tx: Executor, organizationId: string, events: TokenTransition[], endpointsOf?: EndpointLookup): Promise<NewOutboxRecord[]> {
  const { trail, emails } = transitionRows(organizationId, events);
  if (emails.length > 0) await createOutboxRepo(tx).enqueue(organizationId, emails);
  await createTokenEventsRepo(tx).append(organizationId, trail);
  // The webhook outbox: written with the audit events, in the same transaction.
  await enqueueWebhookEvents(tx, organizationId, trail, endpointsOf);
  await revokeUnredeemedIdentities(tx, organizationId, events);
  return emails;
}

/** The trail events of a message's outcome (mail/'s DeliveryEvent types). */
const DELIVERY_EVENT_TYPES: readonly DeliveryEvent['type'][] = ['email.sent', 'email.failed', 'email.cancelled'];

/** The transitions after which a token can enroll no other device. */
const CLOSING: ReadonlySet<TokenEventType> = new Set(['redeemed', 'revoked', 'expired']);

/**
 * One device per token: once a token is redeemed, revoked or expired, every identity issued for
 * it (an Apple profile downloaded twice mints two through SCEP) other than the redeeming
 * device's is revoked, in the transaction of the change, so a spare identity cannot check in.
 */
async function revokeUnredeemedIdentities(tx: Executor, organizationId: string, events: TokenTransition[]): Promise<void> {
  const closing = events.filter((e) => CLOSING.has(e.type));
  if (closing.length === 0) return;
  const at = new Date(Math.max(...closing.map((e) => e.at.getTime())));
  await createCertificatesRepo(tx).revokeUnredeemedForTokens(organizationId, [...new Set(closing.map((e) => e.tokenId))], at);
}

/**
 * New tokens and everything their creation records, written together: each statement inserts
 * up to 500 tokens with their `created` events, their `email.queued` events and outbox emails
 * when `sendEmail`, and their webhook deliveries, so one token costs one round trip. The
 * answer comes from RETURNING; the events and deliveries are built from the rows beforehand.
 */
async function insertIssued(
  tx: Executor,
  args: { organizationId: string; platform: Platform; actorKeyId: string; now: Date; rows: NewTokenRow[]; recipients: string[]; endpointsOf: EndpointLookup },
): Promise<{ tokens: TokenRecord[]; emails: Map<string, NewOutboxRecord> }> {
  const { organizationId, platform, actorKeyId, now, rows, recipients } = args;
  const created = rows.map((t): TokenTransition => ({ tokenId: t.id, type: 'created', actorKeyId, at: now, changes: createdChanges(t) }));
  const queued = rows.flatMap((t, k): TokenTransition[] => (t.sendEmail ? [{ tokenId: t.id, type: 'email.queued', actorKeyId, at: now, recipient: recipients[k]! }] : []));
  const { trail, emails } = transitionRows(organizationId, [...created, ...queued]);
  const endpoints = await args.endpointsOf(tx, organizationId);
  const snapshots = new Map<string, TokenSnapshot>(
    endpoints.length === 0 ? [] : rows.map((t, k) => [t.id, { ...t, email: recipients[k] ?? null }]),
  );
  const deliveries = webhookDeliveryRows(organizationId, trail, endpoints, snapshots);
  const tokens = await insertTokenRows(tx, platform, organizationId, rows, [
    dependentRows(tokenEvents, trail.map((e) => ({ ...e, organizationId })), 'tokenId'),
    dependentRows(emailOutbox, emails, 'tokenId'),
    dependentRows(webhookDeliveries, deliveries, 'tokenId'),
  ]);
  return { tokens, emails: new Map(emails.map((e) => [e.tokenId, e])) };
}

/** The delivery block of a token whose email was just queued. */
const queuedEmail = (email: NewOutboxRecord) => ({ status: email.status, attempts: email.attempts ?? 0, sentAt: null, lastError: null });

export type RedeemOutcome = { ok: true; token: TokenRecord } | { ok: false; state: TokenState | 'NOT_FOUND' };

/**
 * PENDING -> DONE, bound to `deviceId`, with its `redeemed` event, in the caller's transaction
 * (a device protocol's, with its device row). One conditional UPDATE: of many concurrent
 * redeems of a token exactly one wins.
 */
export async function redeemInTransaction(
  tx: Executor,
  args: { organizationId: string; platform: Platform; tokenId: string; deviceId: string; now: Date; device?: Record<string, unknown> },
): Promise<RedeemOutcome> {
  const { organizationId, platform, tokenId, deviceId, now, device } = args;
  const tokens = createTokenRepo(tx);
  const done = await tokens.redeem(organizationId, platform, tokenId, deviceId, now);
  if (!done) {
    const token = await tokens.get(organizationId, platform, tokenId);
    return { ok: false, state: token ? effectiveState(token.state, token.expireAt, now) : 'NOT_FOUND' };
  }
  const changes = { state: { from: 'PENDING', to: 'DONE' }, deviceId, ...(device ? { device } : {}) };
  await recordTransitions(tx, organizationId, [{ tokenId, type: 'redeemed', actorKeyId: null, at: now, changes }]);
  return { ok: true, token: done };
}

/** A command queued for the device a token enrolled, as the token's trail records it. */
export interface QueuedCommandNote {
  id: string;
  type: string;
  target: string | null;
  policyId: string | null;
}

/**
 * The token's trail records what its redemption (or a later change of its policies) queued for
 * its device: one `commands.queued` event, in the caller's transaction; nothing when nothing
 * was queued. The one writer of that event, for both platforms.
 */
export async function recordQueuedCommands(tx: Executor, args: { organizationId: string; tokenId: string; deviceId: string; at: Date; commands: QueuedCommandNote[] }): Promise<void> {
  if (args.commands.length === 0) return;
  const changes = { deviceId: args.deviceId, commands: args.commands };
  await recordTransitions(tx, args.organizationId, [{ tokenId: args.tokenId, type: 'commands.queued', actorKeyId: null, at: args.at, changes }]);
}

export interface BulkEntryResult {
  email: string;
  tokenId?: string;
  error?: { code: number; message: string };
}

export interface BulkResult {
  total: number;
  success: number;
  fail: number;
  results: BulkEntryResult[];
}

const entryError = (name: keyof typeof ERRORS, message?: string) => ({ code: ERRORS[name].code, message: message ?? ERRORS[name].message });

/** What changed on a redeemed token: its device, and the assignments it had before (the row holds the new ones). */
export interface AssignmentsChange {
  tokenId: string;
  deviceId: string;
  before: readonly StoredAssignment[];
}
export type AssignmentsChangedHook = (tx: Executor, organizationId: string, platform: Platform, change: AssignmentsChange) => Promise<void>;

export function createTokenLifecycle(deps: {
  database: Database;
  clock: Clock;
  publicUrl: string;
  onEmailQueued?: () => void;
  /** After a commit that created `count` MDM users (a bulk): large loads refresh the planner's statistics. */
  onUsersCreated?: (count: number) => void;
  emailLimits: EmailLimits;
  /** Which webhook endpoints want an organization's events (the process's cache); read each time without it. */
  webhookEndpoints?: EndpointLookup;
  /**
   * A redeemed token's policies or own profiles changed, in the update's transaction (after the
   * row is written): where its device's difference is queued (devices/, wired in container.ts).
   */
  onAssignmentsChanged?: AssignmentsChangedHook;
}) {
  const db = deps.database.db;
  const endpointsOf = deps.webhookEndpoints ?? enabledEndpoints;
  const base = () => ({ now: deps.clock.now(), publicUrl: deps.publicUrl });
  const render = async (tx: Executor, organizationId: string, platform: Platform, row: TokenRow, view: { now: Date; publicUrl: string }, loaded?: LoadedReferences) =>
    (await renderRows(tx, organizationId, platform, [row], view, loaded))[0]!;
  const rowOrFail = async (tx: Executor, organizationId: string, platform: Platform, id: string, forUpdate: boolean) => {
    const row = await createTokenRepo(tx).findRow(organizationId, platform, id.toLowerCase(), { forUpdate });
    if (!row) throw notFound();
    return row;
  };
  const enterpriseOf = async (tx: Executor, organizationId: string, platform: Platform) => {
    const enterprise = await createTokenReferencesRepo(tx).enterprise(organizationId, platform);
    if (!enterprise) throw new AppError(PLATFORM_NAMES[platform].createError);
    return enterprise;
  };

  return {
    /** One token for one MDM user (seeds 002, 003); answered from the rows it wrote. */
    async issue(auth: AuthContext, platform: Platform, mdmUserId: string, input: TokenInput, idempotencyKey?: string): Promise<TokenView> {
      const view = base();
      const org = auth.organization;
      const request = { organizationId: org.id, scope: `${platform}:create`, key: idempotencyKey, body: { mdmUserId, ...input } };
      const work = async (tx: Executor) => {
        const user = await createTokenReferencesRepo(tx).liveUser(org.id, mdmUserId.toLowerCase());
        if (!user) throw notFound();
        const loaded = await loadReferences(tx, org.id, platform, input);
        checkPlanAllows(auth, platform);
        if ((await remainingCapacity(tx, auth, view.now)) < 1) throw new AppError('LIMIT_EXCEEDED');
        const enterprise = await enterpriseOf(tx, org.id, platform);
        if (input.sendEmail) await deps.emailLimits.beforeQueue(tx, org.id, 1, view.now);
        const row = newTokenRow(platform, org, enterprise.id, user, input, view.now);
        const { tokens, emails } = await insertIssued(tx, { organizationId: org.id, platform, actorKeyId: auth.keyId, now: view.now, rows: [row], recipients: [user.email], endpointsOf });
        const email = emails.get(row.id);
        return render(tx, org.id, platform, { token: tokens[0]!, userEmail: user.email, email: email ? queuedEmail(email) : null }, view, loaded);
      };
      // With no Idempotency-Key to claim, no plan cap to hold and no email to count, the create's
      // one write is insertIssued's statement, atomic by itself; its reads see what a READ
      // COMMITTED transaction would. BEGIN and COMMIT would be half of its round trips.
      const alone = idempotencyKey === undefined && org.planMaxOpenTokens === null && !input.sendEmail;
      const answer = alone ? await work(db) : await idempotent(db, view.now, request, work);
      if (input.sendEmail) deps.onEmailQueued?.();
      return answer;
    },

    /**
     * One token per email (seed 004). Entries are trimmed and lower-cased; an invalid or
     * repeated entry, or one past the plan's cap, fails alone; unknown emails become MDM users.
     * Users, tokens, events and emails commit together or not at all.
     */
    async issueBulk(auth: AuthContext, platform: Platform, userEmails: string[], input: TokenInput, idempotencyKey?: string): Promise<BulkResult> {
      const now = deps.clock.now();
      const org = auth.organization;
      const request = { organizationId: org.id, scope: `${platform}:bulk`, key: idempotencyKey, body: { userEmails, ...input } };
      let usersCreated = 0;
      const result = await idempotent(db, now, request, async (tx) => {
        await loadReferences(tx, org.id, platform, input);
        checkPlanAllows(auth, platform);

        const results: BulkEntryResult[] = userEmails.map((raw) => ({ email: normalizeEmail(raw) }));
        const seen = new Set<string>();
        const valid: number[] = [];
        results.forEach((entry, i) => {
          if (!isEmail(entry.email)) entry.error = entryError('VALIDATION', 'Invalid email');
          else if (seen.has(entry.email)) entry.error = entryError('VALIDATION', 'Repeated email');
          else {
            seen.add(entry.email);
            valid.push(i);
          }
        });
        const capacity = await remainingCapacity(tx, auth, now);
        const accepted = valid.slice(0, capacity);
        for (const i of valid.slice(accepted.length)) results[i]!.error = entryError('LIMIT_EXCEEDED');

        if (accepted.length > 0) {
          const refs = createTokenReferencesRepo(tx);
          const emails = accepted.map((i) => results[i]!.email);
          const users = new Map<string, MdmUserRecord>((await refs.liveUsersByEmails(org.id, emails)).map((u) => [u.email, u]));
          const missing = emails.filter((e) => !users.has(e));
          if (missing.length > 0) {
            const newUsers = missing.map((email) => ({ id: newId(), organizationId: org.id, email, name: '', language: input.language ?? null, tags: [], createdAt: now, updatedAt: now }));
            for (const u of await refs.insertUsers(org.id, newUsers)) users.set(u.email, u);
            usersCreated = users.size - (emails.length - missing.length);
            // Emails a concurrent request took in between: use its users, do not duplicate them.
            const taken = missing.filter((e) => !users.has(e));
            if (taken.length > 0) for (const u of await refs.liveUsersByEmails(org.id, taken)) users.set(u.email, u);
          }
          const enterprise = await enterpriseOf(tx, org.id, platform);
          if (input.sendEmail) await deps.emailLimits.beforeQueue(tx, org.id, emails.length, now);
          const rows = emails.map((email) => newTokenRow(platform, org, enterprise.id, users.get(email)!, input, now));
          const { tokens } = await insertIssued(tx, { organizationId: org.id, platform, actorKeyId: auth.keyId, now, rows, recipients: emails, endpointsOf });
          accepted.forEach((i, k) => (results[i]!.tokenId = tokens[k]!.id));
        }
        const success = accepted.length;
        return { total: userEmails.length, success, fail: userEmails.length - success, results };
      });
      if (input.sendEmail) deps.onEmailQueued?.();
      if (usersCreated > 0) deps.onUsersCreated?.(usersCreated);
      return result;
    },

    /** Changes a token that can still enroll a device (else 400 5146); answered from RETURNING. */
    async update(auth: AuthContext, platform: Platform, id: string, patch: TokenPatch): Promise<TokenView> {
      const view = base();
      const org = auth.organization.id;
      return db.transaction(async (tx) => {
        // Locked: a concurrent change waits, so the trail's "from" is what this one replaces.
        const before = await rowOrFail(tx, org, platform, id, true);
        const loaded = await loadReferences(tx, org, platform, patch);
        const set = patchToColumns(patch);
        const updated = await createTokenRepo(tx).updateEditable(org, platform, before.token.id, set, view.now);
        if (!updated) throw new AppError('TOKEN_NOT_PENDING', { data: { state: effectiveState(before.token.state, before.token.expireAt, view.now) } });
        const changes = updatedChanges(before.token, set);
        await recordTransitions(tx, org, [{ tokenId: updated.id, type: 'updated', actorKeyId: auth.keyId, at: view.now, changes }], endpointsOf);
        // The device a redeemed token enrolled gets the difference, once, with this change.
        if (updated.state === 'DONE' && updated.deviceId && ('policyAssignments' in changes || 'profiles' in changes)) {
          await deps.onAssignmentsChanged?.(tx, org, platform, { tokenId: updated.id, deviceId: updated.deviceId, before: before.token.policyAssignments });
        }
        return render(tx, org, platform, { ...before, token: updated }, view, loaded);
      });
    },

    /** Soft revoke: DELETED, kept for audit. Repeating it answers the same token. */
    async revoke(auth: AuthContext, platform: Platform, id: string): Promise<TokenView> {
      const view = base();
      const org = auth.organization.id;
      return db.transaction(async (tx) => {
        const before = await rowOrFail(tx, org, platform, id, true);
        const revoked = await createTokenRepo(tx).revoke(org, platform, before.token.id, view.now);
        if (!revoked) return render(tx, org, platform, before, view);
        const from = effectiveState(before.token.state, before.token.expireAt, view.now);
        await recordTransitions(tx, org, [{ tokenId: revoked.id, type: 'revoked', actorKeyId: auth.keyId, at: view.now, changes: { state: { from, to: 'DELETED' } } }], endpointsOf);
        return render(tx, org, platform, { ...before, token: revoked }, view);
      });
    },

    /** Queues the enrollment email again; only a token that can still enroll gets one. */
    async resendEmail(auth: AuthContext, platform: Platform, id: string): Promise<TokenView> {
      const view = base();
      const org = auth.organization.id;
      const answer = await db.transaction(async (tx) => {
        const row = await rowOrFail(tx, org, platform, id, false);
        const state = effectiveState(row.token.state, row.token.expireAt, view.now);
        if (state !== 'PENDING' || !row.userEmail) throw new AppError('TOKEN_NOT_PENDING', { data: { state } });
        await deps.emailLimits.beforeResend(tx, org, row.token.id, view.now);
        const [email] = await recordTransitions(tx, org, [{ tokenId: row.token.id, type: 'email.queued', actorKeyId: auth.keyId, at: view.now, recipient: row.userEmail }], endpointsOf);
        return render(tx, org, platform, { ...row, email: queuedEmail(email!) }, view);
      });
      deps.onEmailQueued?.();
      return answer;
    },

    /**
     * Binds a device to a token, in a transaction of its own (device protocols use
     * redeemInTransaction inside theirs). Exactly one of many concurrent redeems of a token
     * wins; the others, and any token that is not PENDING and unexpired, get 400 5146.
     */
    async redeem(organizationId: string, platform: Platform, tokenId: string, deviceId: string): Promise<TokenView> {
      const view = base();
      return db.transaction(async (tx) => {
        const outcome = await redeemInTransaction(tx, { organizationId, platform, tokenId: tokenId.toLowerCase(), deviceId: deviceId.toLowerCase(), now: view.now });
        if (!outcome.ok && outcome.state === 'NOT_FOUND') throw notFound();
        if (!outcome.ok) throw new AppError('TOKEN_NOT_PENDING', { data: { state: outcome.state } });
        return render(tx, organizationId, platform, await rowOrFail(tx, organizationId, platform, outcome.token.id, false), view);
      });
    },

    /** Stores EXPIRED on tokens past expireAt, with an audit event each; returns how many. */
    async sweepExpired(batch = 1_000): Promise<number> {
      const now = deps.clock.now();
      let total = 0;
      for (;;) {
        const swept = await db.transaction(async (tx) => {
          const rows = await sweepExpiredTokens(tx, now, batch);
          const byOrg = new Map<string, TokenTransition[]>();
          for (const r of rows) {
            const events = byOrg.get(r.organizationId) ?? [];
            events.push({ tokenId: r.id, type: 'expired', actorKeyId: null, at: r.expireAt, changes: { state: { from: 'PENDING', to: 'EXPIRED' } } });
            byOrg.set(r.organizationId, events);
          }
          for (const [org, events] of byOrg) await recordTransitions(tx, org, events, endpointsOf);
          return rows.length;
        });
        total += swept;
        if (swept < batch) return total;
      }
    },

    /**
     * The outbox sender's report of a delivery, into the same trail (handed to mail/ by
     * container.ts): read before the send, its rows written by the statement that settles the
     * message. The webhook shows the token as it was read then.
     */
    async prepareDelivery(db: Executor, organizationId: string, tokenId: string): Promise<DeliveryRows> {
      const { endpoints, tokens } = await webhookContextFor(db, organizationId, tokenId, DELIVERY_EVENT_TYPES, endpointsOf);
      return (event) => {
        const trail = [{ ...event, actorKeyId: null }];
        return [
          dependentRows(tokenEvents, trail.map((e) => ({ ...e, organizationId })), 'tokenId'),
          dependentRows(webhookDeliveries, webhookDeliveryRows(organizationId, trail, endpoints, tokens), 'tokenId'),
        ];
      };
    },
  };
}

export type TokenLifecycle = ReturnType<typeof createTokenLifecycle>;
