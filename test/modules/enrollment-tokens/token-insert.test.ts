import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { dependentRows } from '../../../src/db/bulk-insert.ts';
import { emailOutbox, tokenEvents } from '../../../src/db/schema.ts';
import { createTokenReferencesRepo } from '../../../src/modules/enrollment-tokens/token-references.repo.ts';
import { insertTokenRows, newTokenRow } from '../../../src/modules/enrollment-tokens/token-rules.ts';
import { newId } from '../../../src/lib/ids.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';

/**
 * A token's creation writes its trail, email and deliveries in the statement that inserts it.
 * An enroll code already open elsewhere makes that statement skip the token; its rows must go
 * with it, and come back exactly once with the retry that draws a new code.
 */
let ctx: TestContext;
let a: TestOrg;
let user: { id: string; email: string; language: string | null };
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  user = await createMdmUser(ctx, a.org);
});
after(() => ctx.close());

test('a colliding enroll code is drawn again, and the token’s event and email are written once, with the token that went in', async () => {
  const open = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
  assert.equal(open.status, 200, JSON.stringify(open.body));
  const db = ctx.container.database.db;
  const auth = await ctx.container.auth.authenticate(a.adminKey);
  const enterprise = await createTokenReferencesRepo(db).enterprise(a.org.id, 'windows');
  const now = ctx.clock.now();
  const row = { ...newTokenRow('windows', auth.organization, enterprise!.id, user, { sendEmail: true }, now), enrollCode: open.body.data.enrollCode as string };
  const event = { organizationId: a.org.id, tokenId: row.id, type: 'created', actorKeyId: auth.keyId, at: now, changes: {} };
  const email = { id: newId(), organizationId: a.org.id, tokenId: row.id, recipient: user.email, status: 'pending', attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now };

  const [token] = await insertTokenRows(db, 'windows', a.org.id, [row], [dependentRows(tokenEvents, [event], 'tokenId'), dependentRows(emailOutbox, [email], 'tokenId')]);
  assert.equal(token!.id, row.id);
  assert.notEqual(token!.enrollCode, open.body.data.enrollCode, 'a new code, since the first was open');
  const events = await db.select().from(tokenEvents).where(and(eq(tokenEvents.organizationId, a.org.id), eq(tokenEvents.tokenId, row.id)));
  assert.equal(events.length, 1, 'the event of the skipped attempt was skipped with it');
  const emails = await db.select().from(emailOutbox).where(and(eq(emailOutbox.organizationId, a.org.id), eq(emailOutbox.tokenId, row.id)));
  assert.deepEqual(emails.map((e) => e.id), [email.id]);

  const audit = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${row.id}` });
  assert.equal(audit.status, 200, 'the token reads back through the API');
  assert.equal(audit.body.data.enrollCode, token!.enrollCode);
});
