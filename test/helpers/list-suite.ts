import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { errorPaths } from './assertions.ts';
import { createOrg, type TestOrg } from './factories.ts';
import { call, type Json, type TestContext } from './test-app.ts';

/**
 * One list suite (page envelope, pagination edges, every sort field both ways, ties, bad
 * parameters, and what removal does) run against every listing route: test/lib/listing.test.ts.
 *
 * Each resource gets a fresh organization holding three items, made so that every order
 * differs: charlie and alpha at the same instant (a createdAt tie, broken by id), bravo a second
 * later, then alpha changed. A fourth item, zulu, is made last and removed.
 */
export interface ListItem {
  name: string;
  /** For resources with an email to sort by (MDM users, tokens' users). */
  email: string;
}

export interface ListFixture {
  /** The list's path in the organization. */
  path: string;
  /** Makes one item; returns its id. */
  create(item: ListItem): Promise<string>;
  /** Changes an item without changing its name or email (moves updatedAt). */
  touch?(id: string): Promise<void>;
  /** Deletes (or revokes) an item. */
  remove?(id: string): Promise<void>;
}

/** How an item sorts by a field: by creation, last change, name, email, or a value all items share. */
export type SortKey = 'created' | 'updated' | 'name' | 'email' | 'same';

export interface ListResource {
  name: string;
  /** The route as registered, to prove every listing route runs the suite. */
  route: string;
  setup(ctx: TestContext, org: TestOrg): Promise<ListFixture>;
  nameOf(item: Record<string, unknown>): string;
  /** Exactly the keys of an item. */
  keys: string[];
  order: 'newest-first' | 'oldest-first';
  /** Names a new organization's list already holds, oldest first (its first admin key). */
  baseline?: string[];
  sort?: { fields: Record<string, SortKey>; unknownField: string };
  /** What removal does: the item leaves the list, or leaves it unless `show-deleted=true`. */
  removal?: 'hidden' | 'show-deleted';
}

const ITEMS: ListItem[] = [
  { name: 'charlie', email: 'delta@example.com' },
  { name: 'alpha', email: 'echo@example.com' },
  { name: 'bravo', email: 'bird@example.com' },
];
const REMOVED: ListItem = { name: 'zulu', email: 'zulu@example.com' };

export function runListSuite(ctxOf: () => TestContext, resource: ListResource): void {
  describe(`list suite: ${resource.name}`, () => {
    let fixture: ListFixture;
    let org: TestOrg;
    const list = (query = ''): Promise<Json> => call(ctxOf().app, org.adminKey, { method: 'GET', url: `${fixture.path}${query}` });
    const names = (res: Json): string[] => res.body.data.items.map((item: Record<string, unknown>) => resource.nameOf(item));
    const bad = async (query: string, paths: string[]) => {
      const res = await list(query);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error.code, 3000, query);
      assert.deepEqual(errorPaths(res), paths, query);
    };

    // Ascending orders, oldest first; the list's own default is derived from `created`.
    const byKey: Record<SortKey, string[]> = {
      created: ['charlie', 'alpha', 'bravo'],
      updated: ['charlie', 'alpha', 'bravo'],
      name: ['alpha', 'bravo', 'charlie'],
      email: ['bravo', 'charlie', 'alpha'],
      same: ['charlie', 'alpha', 'bravo'],
    };
    const baseline = resource.baseline ?? [];
    const expected = resource.order === 'newest-first' ? [...byKey.created].reverse().concat([...baseline].reverse()) : baseline.concat(byKey.created);
    const n = expected.length;

    before(async () => {
      const ctx = ctxOf();
      org = await createOrg(ctx);
      fixture = await resource.setup(ctx, org);
      ctx.clock.advance(1_000);
      const ids: Record<string, string> = {};
      for (const item of ITEMS) {
        if (item.name === 'bravo') ctx.clock.advance(1_000);
        ids[item.name] = await fixture.create(item);
      }
      ctx.clock.advance(1_000);
      if (fixture.touch) {
        await fixture.touch(ids.alpha!);
        byKey.updated = ['charlie', 'bravo', 'alpha'];
      }
      if (resource.removal) {
        ctx.clock.advance(1_000);
        await fixture.remove!(await fixture.create(REMOVED));
      }
    });

    test('default order, the page envelope, and the shape of every item', async () => {
      const res = await list();
      assert.equal(res.status, 200);
      assert.deepEqual(names(res), expected);
      const { items, ...envelope } = res.body.data;
      assert.deepEqual(envelope, { totalDocs: n, limit: 25, page: 1, totalPages: 1, hasPrevPage: false, hasNextPage: false, prevPage: null, nextPage: null });
      for (const item of items) assert.deepEqual(Object.keys(item).sort(), [...resource.keys].sort());
    });

    test('pagination edges: limit 1 at the start, in the middle and at the end, past the end, limit 500', async () => {
      const first = await list('?limit=1');
      assert.deepEqual(names(first), [expected[0]]);
      assert.deepEqual({ ...first.body.data, items: 0 }, { items: 0, totalDocs: n, limit: 1, page: 1, totalPages: n, hasPrevPage: false, hasNextPage: true, prevPage: null, nextPage: 2 });
      const second = await list('?limit=1&page=2');
      assert.deepEqual(names(second), [expected[1]]);
      assert.deepEqual({ ...second.body.data, items: 0 }, { items: 0, totalDocs: n, limit: 1, page: 2, totalPages: n, hasPrevPage: true, hasNextPage: n > 2, prevPage: 1, nextPage: n > 2 ? 3 : null });
      const last = await list(`?limit=1&page=${n}`);
      assert.deepEqual(names(last), [expected[n - 1]]);
      assert.deepEqual({ ...last.body.data, items: 0 }, { items: 0, totalDocs: n, limit: 1, page: n, totalPages: n, hasPrevPage: true, hasNextPage: false, prevPage: n - 1, nextPage: null });
      const past = await list('?limit=2&page=9');
      assert.equal(past.status, 200);
      assert.deepEqual({ ...past.body.data, items: past.body.data.items.length }, { items: 0, totalDocs: n, limit: 2, page: 9, totalPages: Math.ceil(n / 2), hasPrevPage: true, hasNextPage: false, prevPage: 8, nextPage: null });
      assert.deepEqual(names(await list('?limit=500')), expected);
    });

    test('bad page parameters and unknown parameters are 400 3000 naming each', async () => {
      await bad('?limit=501', ['query.limit']);
      await bad('?limit=0&page=0', ['query.limit', 'query.page']);
      await bad('?limit=abc', ['query.limit']);
      await bad('?page=x', ['query.page']);
      await bad('?unknown=1', ['query.unknown']);
      await bad('?page=0&unknown=1', ['query.page', 'query.unknown']);
    });

    const { sort } = resource;
    if (sort) {
      test('every sort field both ways, ties broken by id; no direction means ascending', async () => {
        for (const [field, key] of Object.entries(sort.fields)) {
          assert.deepEqual(names(await list(`?sort=${field}:asc`)), byKey[key], `${field}:asc`);
          assert.deepEqual(names(await list(`?sort=${field}:desc`)), [...byKey[key]].reverse(), `${field}:desc`);
          assert.deepEqual(names(await list(`?sort=${field}`)), byKey[key], `${field}`);
        }
        // Sort and pages combine: the second of one per page, by name where the list has one.
        const [field, key] = Object.entries(sort.fields).find(([, k]) => k === 'name') ?? Object.entries(sort.fields)[0]!;
        assert.deepEqual(names(await list(`?sort=${field}:asc&limit=1&page=2`)), [byKey[key][1]], 'sort and pages combine');
      });

      test('unknown sort fields and bad patterns are 400 naming query.sort', async () => {
        const byName = Object.keys(sort.fields).find((f) => sort.fields[f] === 'name') ?? Object.keys(sort.fields)[0]!;
        for (const q of [sort.unknownField, 'password', 'createdAt:up', `${byName}:up`, 'id;drop table x', "name'--", `${byName}'--`]) await bad(`?sort=${encodeURIComponent(q)}`, ['query.sort']);
      });
    }

    if (resource.removal === 'hidden') {
      test('a removed item leaves the list', async () => {
        const res = await list('?limit=500');
        assert.deepEqual(names(res), expected);
        assert.equal(res.body.data.totalDocs, n);
      });
    }

    if (resource.removal === 'show-deleted') {
      test('a removed item is hidden unless show-deleted=true', async () => {
        assert.deepEqual(names(await list('?show-deleted=false')), expected);
        const all = await list('?show-deleted=true');
        assert.deepEqual(names(all), resource.order === 'newest-first' ? [REMOVED.name, ...expected] : [...expected, REMOVED.name]);
        assert.equal(all.body.data.totalDocs, n + 1);
        await bad('?show-deleted=maybe', ['query.show-deleted']);
      });
    }
  });
}
