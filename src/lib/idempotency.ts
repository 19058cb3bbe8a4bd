import { and, eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { hashRequest } from './canonical-json.ts';

export interface IdempotencyRequest {
  organizationId: string;
  /** What the key is for, e.g. "windows:bulk": the same key on another route is another request. */
  scope: string;
  key: string | undefined;
  body: unknown;
}

/**
 * Runs `work` in one transaction that also claims the Idempotency-Key. A retry with the same
 * key and body gets the stored answer; a different body gets 409 5001. The claim is an insert
 * on the key's primary key, so a concurrent duplicate waits for the first to commit (or roll
 * back, in which case it runs itself). Only successful answers are stored.
 */
export async function idempotent<T>(db: Db, now: Date, request: IdempotencyRequest, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (request.key === undefined) return db.transaction(work);
  const requestHash = hashRequest(request.body);
  const keyWhere = and(
    eq(idempotencyKeys.organizationId, request.organizationId),
    eq(idempotencyKeys.scope, request.scope),
    eq(idempotencyKeys.key, request.key),
  );
  return db.transaction(async (tx) => {
    const claimed = await tx
      .insert(idempotencyKeys)
      .values({ organizationId: request.organizationId, scope: request.scope, key: request.key!, requestHash, createdAt: now })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (claimed.length === 0) {
      const [stored] = await tx.select().from(idempotencyKeys).where(keyWhere).limit(1);
      if (!stored || stored.requestHash !== requestHash) throw new AppError('CONFLICT');
      return stored.response as T;
    }
    const result = await work(tx);
    await tx.update(idempotencyKeys).set({ response: result }).where(keyWhere);
    return result;
  });
}

export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,255}$';
