import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createDatabaseCounterStore, createMemoryCounterStore, NO_ORGANIZATION, type CounterStore } from '../../src/limits/counter-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db.drop());

const stores: Array<[string, () => CounterStore]> = [
  ['in the database', () => createDatabaseCounterStore(db.database.db)],
  ['in memory', () => createMemoryCounterStore()],
];

for (const [label, make] of stores) {
  describe(`counters ${label}`, () => {
    test('count within a window, then a new window; buckets and organizations apart', async () => {
      const store = make();
      const org = '0123456789abcdef01234567';
      const first = await store.hit(org, 'key:a', 400);
      assert.equal(first.count, 1);
      assert.ok(first.ttlMs > 0 && first.ttlMs <= 400, `ttl ${first.ttlMs}`);
      assert.equal((await store.hit(org, 'key:a', 400)).count, 2);
      assert.equal((await store.hit(org, 'key:b', 400)).count, 1);
      assert.equal((await store.hit(NO_ORGANIZATION, 'key:a', 400)).count, 1);
      await sleep(450);
      const next = await store.hit(org, 'key:a', 400);
      assert.equal(next.count, 1, 'the window ended: counting starts again');
      assert.ok(next.ttlMs > 300, `a whole new window (${next.ttlMs} ms)`);
    });

    test('peek reads the count without adding to it; an ended or unknown window reads 0', async () => {
      const store = make();
      assert.deepEqual(await store.peek(NO_ORGANIZATION, 'ip:x'), { count: 0, ttlMs: 0 });
      await store.hit(NO_ORGANIZATION, 'ip:x', 300);
      await store.hit(NO_ORGANIZATION, 'ip:x', 300);
      const seen = await store.peek(NO_ORGANIZATION, 'ip:x');
      assert.equal(seen.count, 2);
      assert.ok(seen.ttlMs > 0 && seen.ttlMs <= 300, `ttl ${seen.ttlMs}`);
      assert.equal((await store.peek(NO_ORGANIZATION, 'ip:x')).count, 2, 'peeking counts nothing');
      await sleep(350);
      assert.deepEqual(await store.peek(NO_ORGANIZATION, 'ip:x'), { count: 0, ttlMs: 0 });
    });

    test('concurrent hits are each counted once', async () => {
      const store = make();
      const counts = await Promise.all(Array.from({ length: 40 }, () => store.hit(NO_ORGANIZATION, 'ip:burst', 60_000)));
      assert.deepEqual(counts.map((c) => c.count).sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 1));
    });
  });
}

test('the sweep forgets windows that ended a minute ago, not live ones', async () => {
  const store = createDatabaseCounterStore(db.database.db);
  await store.hit(NO_ORGANIZATION, 'ip:old', 60_000);
  await store.hit(NO_ORGANIZATION, 'ip:live', 60_000);
  await db.database.db.execute(sql`update rate_limit_counters set window_ends_at = now() - interval '2 minutes' where bucket = 'ip:old'`);
  assert.equal(await store.sweep(), 1);
  const rows = (await db.database.db.execute(sql`select bucket from rate_limit_counters where bucket in ('ip:old', 'ip:live')`)) as unknown as { rows: Array<{ bucket: string }> };
  assert.deepEqual(rows.rows.map((r) => r.bucket), ['ip:live']);
});
