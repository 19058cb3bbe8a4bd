import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { dependentRows, insertRows, insertRowsReturning } from '../../src/db/bulk-insert.ts';
import { mdmUsers, tokenEvents } from '../../src/db/schema.ts';
import { newId } from '../../src/lib/ids.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(async () => {
  await ctx.close();
});

const user = (email: string, extra: Partial<typeof mdmUsers.$inferInsert> = {}) => {
  const now = new Date('2026-11-30T10:00:00.123Z');
  return { id: newId(), organizationId: a.org.id, email, name: 'Ünïcode "quoted", \\ back', language: null, tags: ['a', 'b,c', '{d}'], createdAt: now, updatedAt: now, ...extra };
};

describe('insertRowsReturning and insertRows: many rows as one JSON parameter', () => {
  test("returns exactly what Drizzle's own insert returns for the same rows (types, arrays, nulls, timestamps)", async () => {
    const db = ctx.container.database.db;
    const [viaValues] = await db.insert(mdmUsers).values(user('values@example.com')).returning();
    const [viaJson] = await insertRowsReturning(db, mdmUsers, [user('json@example.com')]);
    assert.ok(viaValues && viaJson);
    assert.deepEqual({ ...viaJson, id: '', email: '' }, { ...viaValues, id: '', email: '' });
    assert.ok(viaJson.createdAt instanceof Date);
    assert.equal(viaJson.createdAt.toISOString(), '2026-11-30T10:00:00.123Z');
    const [stored] = await db.select().from(mdmUsers).where(eq(mdmUsers.id, viaJson.id));
    assert.deepEqual(stored, viaJson, 'what was returned is what was stored');
  });

  test('columns no row sets take the table defaults; an identity column is the database’s', async () => {
    const db = ctx.container.database.db;
    const { tags: _tags, ...withoutTags } = user('defaults@example.com');
    const [row] = await insertRowsReturning(db, mdmUsers, [withoutTags]);
    assert.deepEqual(row!.tags, []);
    const events = await insertRowsReturning(db, tokenEvents, [
      { organizationId: a.org.id, tokenId: newId(), type: 'created', actorKeyId: null, at: new Date(), changes: { state: { from: null, to: 'PENDING' } } },
      { organizationId: a.org.id, tokenId: newId(), type: 'revoked', actorKeyId: null, at: new Date() },
    ]);
    assert.equal(events.length, 2);
    assert.ok(events[1]!.id > events[0]!.id, 'ids from the identity, in order');
    assert.deepEqual(events[0]!.changes, { state: { from: null, to: 'PENDING' } });
    assert.deepEqual(events[1]!.changes, {}, "the table's default for a column a row leaves out");
    await insertRows(db, tokenEvents, [{ organizationId: a.org.id, tokenId: events[0]!.tokenId, type: 'updated', actorKeyId: null, at: new Date() }]);
    const trail = await db.select().from(tokenEvents).where(eq(tokenEvents.tokenId, events[0]!.tokenId));
    assert.deepEqual(
      trail.map((e) => e.type),
      ['created', 'updated'],
      'insertRows writes without reading back',
    );
  });

  test('5,000 rows cross the statement size; a unique index skips with onConflictDoNothing, and fails the insert without it', async () => {
    const db = ctx.container.database.db;
    const rows = Array.from({ length: 5_000 }, (_, i) => user(`many.${i}@example.com`));
    const inserted = await insertRowsReturning(db, mdmUsers, rows);
    assert.deepEqual(
      inserted.map((r) => r.email),
      rows.map((r) => r.email),
      'every row, in the order given',
    );
    const again = [user('many.0@example.com'), user('fresh@example.com')];
    const skipped = await insertRowsReturning(db, mdmUsers, again, { onConflictDoNothing: true });
    assert.deepEqual(
      skipped.map((r) => r.email),
      ['fresh@example.com'],
    );
    await assert.rejects(insertRowsReturning(db, mdmUsers, [user('many.1@example.com')]), (error: Error & { cause?: { code?: string } }) => error.cause?.code === '23505');
  });

  test('dependent rows go in the same statement, only with the parents it inserted, across statement sizes', async () => {
    const db = ctx.container.database.db;
    const taken = await insertRowsReturning(db, mdmUsers, [user('taken.0@example.com'), user('taken.1@example.com')]);
    // 700 parents (two statements of 500), two of which collide with existing emails.
    const parents = Array.from({ length: 700 }, (_, i) => user(i === 3 || i === 650 ? `taken.${i === 3 ? 0 : 1}@example.com` : `parent.${i}@example.com`));
    const at = new Date('2026-11-30T10:00:00.000Z');
    const events = parents.flatMap((p) => [
      { organizationId: a.org.id, tokenId: p.id, type: 'created', actorKeyId: null, at, changes: { email: p.email } },
      { organizationId: a.org.id, tokenId: p.id, type: 'email.queued', actorKeyId: null, at },
    ]);
    const inserted = await insertRowsReturning(db, mdmUsers, parents, { onConflictDoNothing: true, dependents: [dependentRows(tokenEvents, events, 'tokenId')] });
    assert.equal(inserted.length, 698);
    const skipped = new Set([parents[3]!.id, parents[650]!.id]);
    assert.ok(inserted.every((row) => !skipped.has(row.id)));
    const written = await db.select().from(tokenEvents).where(inArray(tokenEvents.tokenId, parents.map((p) => p.id)));
    assert.equal(written.length, 698 * 2, 'two per inserted parent, none for the two skipped');
    assert.ok(written.every((e) => !skipped.has(e.tokenId)));
    const first = written.filter((e) => e.tokenId === parents[0]!.id).sort((x, y) => Number(x.id) - Number(y.id));
    assert.deepEqual(first.map((e) => [e.type, e.changes]), [['created', { email: 'parent.0@example.com' }], ['email.queued', {}]], 'in the order given, with the table defaults');
    assert.equal(taken.length, 2);
  });

  test('a failing dependent fails the whole statement: no parent is left without its rows', async () => {
    const db = ctx.container.database.db;
    const parent = user('atomic@example.com');
    // An event without its type breaks NOT NULL, in the statement that inserts the parent.
    const bad = { organizationId: a.org.id, tokenId: parent.id, type: null as unknown as string, actorKeyId: null, at: new Date() };
    await assert.rejects(
      insertRowsReturning(db, mdmUsers, [parent], { dependents: [dependentRows(tokenEvents, [bad], 'tokenId')] }),
      (error: Error & { cause?: { code?: string } }) => error.cause?.code === '23502',
    );
    assert.equal((await db.select().from(mdmUsers).where(eq(mdmUsers.id, parent.id))).length, 0, 'the parent was not kept');
  });
});
