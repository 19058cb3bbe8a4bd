import type { Database } from '../../db/client.ts';
import type { EmailLimits } from '../../limits/email-limits.ts';
import { AppError, ERRORS, notFound } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { isEmail, normalizeEmail } from '../../lib/email-address.ts';
import { newId } from '../../lib/ids.ts';
import type { Platform } from '../../platforms/platforms.ts';
import type { AuthContext } from '../api-keys/api-keys.service.ts';
import { idempotent } from './idempotency.ts';
import { checkPlanAllows, checkReferences, queueEmails, remainingCapacity, renderToken } from './token-core.ts';
import { createTokenEventsRepo } from './token-events.repo.ts';
import type { TokenInput } from './token-input.ts';
import { createTokenReferencesRepo, type MdmUserRecord } from './token-references.repo.ts';
import { createdChanges, insertTokenRows, newTokenRow } from './token-rows.ts';
import type { TokenView } from './tokens.views.ts';

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

export function createTokenCreateService(deps: { database: Database; clock: Clock; publicUrl: string; onEmailQueued?: () => void; emailLimits: EmailLimits }) {
  const db = deps.database.db;

  return {
    /** One token for one MDM user (seeds 002, 003). */
    async create(auth: AuthContext, platform: Platform, mdmUserId: string, input: TokenInput, idempotencyKey?: string): Promise<TokenView> {
      const now = deps.clock.now();
      const org = auth.organization;
      const request = { organizationId: org.id, scope: `${platform}:create`, key: idempotencyKey, body: { mdmUserId, ...input } };
      const view = await idempotent(db, now, request, async (tx) => {
        const user = await createTokenReferencesRepo(tx).liveUser(org.id, mdmUserId.toLowerCase());
        if (!user) throw notFound();
        await checkReferences(tx, org.id, platform, input);
        checkPlanAllows(auth, platform);
        if ((await remainingCapacity(tx, auth, now)) < 1) throw new AppError('LIMIT_EXCEEDED');
        const enterprise = await createTokenReferencesRepo(tx).enterprise(org.id, platform);
        if (!enterprise) throw new AppError(platform === 'windows' ? 'WIN_TOKEN_CREATE' : 'ADM_TOKEN_CREATE');
        const [token] = await insertTokenRows(tx, platform, org.id, [newTokenRow(platform, org, enterprise.id, user, input, now)]);
        await createTokenEventsRepo(tx).append(org.id, [{ tokenId: token!.id, type: 'created', actorKeyId: auth.keyId, at: now, changes: createdChanges(token!) }]);
        if (token!.sendEmail) {
          await deps.emailLimits.beforeQueue(tx, org.id, 1, now);
          await queueEmails(tx, org.id, [{ token: token!, recipient: user.email }], auth.keyId, now);
        }
        return renderToken(tx, org.id, platform, token!, { now, publicUrl: deps.publicUrl });
      });
      if (input.sendEmail) deps.onEmailQueued?.();
      return view;
    },

    /**
     * One token per email (seed 004). Entries are trimmed and lower-cased; an invalid or
     * repeated entry, or one past the plan's cap, fails alone; unknown emails become MDM users.
     * Users and tokens commit together or not at all.
     */
    async bulkCreate(auth: AuthContext, platform: Platform, userEmails: string[], input: TokenInput, idempotencyKey?: string): Promise<BulkResult> {
      const now = deps.clock.now();
      const org = auth.organization;
      const request = { organizationId: org.id, scope: `${platform}:bulk`, key: idempotencyKey, body: { userEmails, ...input } };
      const result = await idempotent(db, now, request, async (tx) => {
        await checkReferences(tx, org.id, platform, input);
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
            await refs.insertUsers(
              org.id,
              missing.map((email) => ({ id: newId(), organizationId: org.id, email, name: '', language: input.language ?? null, tags: [], createdAt: now, updatedAt: now })),
            );
            // Read back, so users a concurrent request created in between are used, not duplicated.
            for (const u of await refs.liveUsersByEmails(org.id, missing)) users.set(u.email, u);
          }
          const enterprise = await refs.enterprise(org.id, platform);
          if (!enterprise) throw new AppError(platform === 'windows' ? 'WIN_TOKEN_CREATE' : 'ADM_TOKEN_CREATE');
          const rows = emails.map((email) => newTokenRow(platform, org, enterprise.id, users.get(email)!, input, now));
          const tokens = await insertTokenRows(tx, platform, org.id, rows);
          await createTokenEventsRepo(tx).append(
            org.id,
            tokens.map((t) => ({ tokenId: t.id, type: 'created', actorKeyId: auth.keyId, at: now, changes: createdChanges(t) })),
          );
          if (input.sendEmail) {
            await deps.emailLimits.beforeQueue(tx, org.id, tokens.length, now);
            await queueEmails(tx, org.id, tokens.map((token, k) => ({ token, recipient: emails[k]! })), auth.keyId, now);
          }
          accepted.forEach((i, k) => (results[i]!.tokenId = tokens[k]!.id));
        }
        const success = accepted.length;
        return { total: userEmails.length, success, fail: userEmails.length - success, results };
      });
      if (input.sendEmail) deps.onEmailQueued?.();
      return result;
    },
  };
}
