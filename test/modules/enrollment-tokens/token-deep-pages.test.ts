import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../../src/app.ts';
import { createContainer } from '../../../src/container.ts';
import { openDatabase } from '../../../src/db/client.ts';
import { DEEP_PAGE_OFFSET } from '../../../src/modules/enrollment-tokens/token-page-marks.repo.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { TEST_DB_KIND } from '../../helpers/test-db.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';

/**
 * Deep pages read from marks (token-page-marks.repo.ts) must be exactly what the offset walk
 * gives. The walk is written here as plain SQL over the same table: the definition of the page.
 * That a page came from a mark is shown by moving the mark: the page then moves with it.
 */
let ctx: TestContext;
let org: TestOrg;
let path: string;
let userA: string;
const COUNT = 1500;

const db = () => ctx.container.database.db;
async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await db().execute(query);
  return (Array.isArray(result) ? result : (result as unknown as { rows: T[] }).rows) as T[];
}

const COLUMNS: Record<string, string> = { createdAt: 'created_at', updatedAt: 'updated_at', expireAt: 'expire_at', displayName: 'display_name', type: 'type', subType: 'sub_type' };

interface Shape {
  sort: string;
  showDeleted?: boolean;
  user?: boolean;
}

function query(shape: Shape, page: number, limit: number): string {
  const q = [`sort=${shape.sort}`, `page=${page}`, `limit=${limit}`];
  if (shape.showDeleted) q.push('show-deleted=true');
  if (shape.user) q.push(`mdm-user=${userA}`);
  return `?${q.join('&')}`;
}

/** The offset walk: ids of the page and the exact total. */
async function walk(shape: Shape, page: number, limit: number): Promise<{ ids: string[]; total: number }> {
  const [field, direction] = shape.sort.split(':') as [string, 'asc' | 'desc'];
  const where = sql.join(
    [
      sql`organization_id = ${org.org.id} and platform = 'windows'`,
      ...(shape.showDeleted ? [] : [sql`state <> 'DELETED'`]),
      ...(shape.user ? [sql`mdm_user_id = ${userA}`] : []),
    ],
    sql` and `,
  );
  const dir = sql.raw(direction);
  const ids = await rows<{ id: string }>(sql`select id from enrollment_tokens where ${where} order by ${sql.raw(COLUMNS[field]!)} ${dir}, id ${dir} limit ${limit} offset ${(page - 1) * limit}`);
  const [count] = await rows<{ n: string }>(sql`select count(*) as n from enrollment_tokens where ${where}`);
  return { ids: ids.map((r) => r.id), total: Number(count!.n) };
}

async function served(shape: Shape, page: number, limit: number, app = ctx.app): Promise<{ ids: string[]; total: number; items: Array<Record<string, unknown>> }> {
  const res = await call(app, org.adminKey, { method: 'GET', url: `${path}${query(shape, page, limit)}` });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { ids: res.body.data.items.map((i: { id: string }) => i.id), total: res.body.data.totalDocs, items: res.body.data.items };
}

async function assertExact(shape: Shape, page: number, limit: number, app = ctx.app): Promise<void> {
  const [got, expected] = [await served(shape, page, limit, app), await walk(shape, page, limit)];
  assert.deepEqual({ ids: got.ids, total: got.total }, expected, `${JSON.stringify(shape)} page ${page} limit ${limit}`);
}

async function marks(): Promise<Array<{ shape: string; position: string; version: string; token_id: string }>> {
  return rows(sql`select shape, position::text, version::text, token_id from token_page_marks where organization_id = ${org.org.id} order by shape, position`);
}

/** Points a mark at another token: a page read from the mark starts there instead. */
async function moveMark(position: number, tokenId: string): Promise<void> {
  await db().execute(sql`update token_page_marks set token_id = ${tokenId} where organization_id = ${org.org.id} and position = ${position}`);
}

const SHAPES: Shape[] = [
  { sort: 'createdAt:desc' },
  { sort: 'createdAt:asc' },
  { sort: 'createdAt:desc', showDeleted: true },
  { sort: 'displayName:asc' },
  { sort: 'displayName:desc', showDeleted: true },
  { sort: 'type:asc' },
  { sort: 'subType:desc' },
  { sort: 'expireAt:desc' },
  { sort: 'updatedAt:asc', showDeleted: true },
];

before(async () => {
  ctx = await buildTestApp();
  org = await createOrg(ctx);
  path = tokensPath(org.org.id, 'windows');
  userA = (await createMdmUser(ctx, org.org)).id;
  const userB = (await createMdmUser(ctx, org.org)).id;
  const template = await createToken(ctx, org.adminKey, org.org.id, 'windows', { mdmUserId: userA, sendEmail: false, displayName: 'template' });
  assert.equal(template.status, 200, JSON.stringify(template.body));
  // Copies of the token with many ties on every sort key (createdAt by fours, nine names, five
  // expiries, one type): ties are broken by id, which is in no relation to the copy's number.
  await db().execute(sql`
    insert into enrollment_tokens
    select (jsonb_populate_record(t, jsonb_build_object(
      'id', substr(md5(g || 'deep'), 1, 24),
      'mdm_user_id', case when g % 5 = 0 then ${userB} else ${userA} end,
      'display_name', 'Device ' || (g % 9),
      'state', case when g % 10 = 1 then 'DELETED' else 'PENDING' end,
      'link_secret', md5(g || 'link') || md5(g || 'secret'),
      'enroll_code', 'DEEP' || lpad(g::text, 6, '0'),
      'created_at', t.created_at - make_interval(secs => g / 4),
      'updated_at', t.created_at - make_interval(secs => g / 4),
      'expire_at', t.expire_at + make_interval(days => g % 5)))).*
    from enrollment_tokens t, generate_series(1, ${COUNT}) g
    where t.id = ${template.body.data.id}`);
});

after(() => ctx.close());

describe('deep token pages from marks', () => {
  test('each marked shape: the first deep read marks its offset, a repeat and the next pages read from the mark, all exact', async () => {
    const deepPage = DEEP_PAGE_OFFSET / 25 + 3;
    for (const shape of SHAPES) {
      await assertExact(shape, deepPage, 25);
      await assertExact(shape, deepPage, 25);
      await assertExact(shape, deepPage + 1, 25);
      await assertExact(shape, 111, 10);
    }
    const written = await marks();
    for (const shape of ['live:createdAt:desc', 'live:createdAt:asc', 'all:createdAt:desc', 'live:displayName:asc', 'all:displayName:desc', 'live:type:asc', 'live:subType:desc', 'live:expireAt:desc']) {
      assert.ok(written.some((m) => m.shape === `${shape}:` && Number(m.position) === (deepPage - 1) * 25), `${shape} marked`);
    }
    // updatedAt sorts by what a token shows, which the clock changes (token-state.ts): walked, never marked.
    assert.ok(!written.some((m) => m.shape.includes(':updatedAt:')), 'updatedAt is not marked');
    assert.equal(new Set(written.map((m) => m.version)).size, 1, 'one version: no change happened');
  });

  test('a page read from a mark starts at the mark: moving the mark moves the page (so the mark is used)', async () => {
    const shape: Shape = { sort: 'displayName:asc' };
    const page = 50;
    await assertExact(shape, page, 25);
    const position = 49 * 25;
    const fiveLater = (await walk(shape, page, 25)).ids[5]!;
    await moveMark(position, fiveLater);
    const moved = await served(shape, page, 25);
    const expected = await rows<{ id: string }>(
      sql`select id from enrollment_tokens where organization_id = ${org.org.id} and platform = 'windows' and state <> 'DELETED' order by display_name, id limit 25 offset ${position + 5}`,
    );
    assert.deepEqual(moved.ids, expected.map((r) => r.id));
    await moveMark(position, (await walk(shape, page, 25)).ids[0]!);
    await assertExact(shape, page, 25);
  });

  test('the mdm-user filter is marked per user', async () => {
    // The user holds 1,050 live tokens of the 1,500.
    const shape: Shape = { sort: 'createdAt:desc', user: true };
    await assertExact(shape, DEEP_PAGE_OFFSET / 25 + 1, 25);
    await assertExact(shape, DEEP_PAGE_OFFSET / 25 + 1, 25);
    await assertExact(shape, DEEP_PAGE_OFFSET / 25 + 2, 25);
    assert.ok((await marks()).some((m) => m.shape === `live:createdAt:desc:user=${userA}`));
  });

  test('a create, an update, a revoke and a delete each make the marks stale: pages stay exact and new marks are written', async () => {
    const shape: Shape = { sort: 'createdAt:desc' };
    const all: Shape = { sort: 'updatedAt:desc', showDeleted: true };
    const page = DEEP_PAGE_OFFSET / 25 + 2;
    const changes: Array<[string, () => Promise<void>]> = [
      ['create', async () => void (await createToken(ctx, org.adminKey, org.org.id, 'windows', { mdmUserId: userA, sendEmail: false, displayName: 'Device 0' }))],
      ['update', async () => {
        const id = (await walk(shape, page + 1, 1)).ids[0]!;
        ctx.clock.advance(1000);
        const res = await call(ctx.app, org.adminKey, { method: 'PUT', url: `${path}/${id}`, payload: { tags: ['moved'] } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }],
      ['revoke', async () => {
        const id = (await walk(shape, 3, 25)).ids[0]!;
        assert.equal((await call(ctx.app, org.adminKey, { method: 'DELETE', url: `${path}/${id}` })).status, 200);
      }],
      ['delete', async () => void (await db().execute(sql`delete from enrollment_tokens where id in (select id from enrollment_tokens where organization_id = ${org.org.id} order by created_at desc offset 100 limit 3)`))],
    ];
    for (const [name, change] of changes) {
      for (const s of [shape, all]) await assertExact(s, page, 25);
      const before = await marks();
      // A stale mark pointed elsewhere: were it used, the page would be wrong.
      await moveMark((page - 1) * 25, (await walk(shape, 2, 25)).ids[0]!);
      await change();
      for (const s of [shape, all]) await assertExact(s, page, 25);
      const now = await marks();
      assert.ok(Math.max(...now.map((m) => Number(m.version))) > Math.max(...before.map((m) => Number(m.version))), `${name} changed the version`);
      assert.equal(new Set(now.map((m) => m.version)).size, 1, `${name}: older versions' marks dropped`);
    }
  });

  test('on PostgreSQL, a mark written by one server process is used by another on the same database', { skip: TEST_DB_KIND === 'postgres' ? false : 'PGlite is opened by one process only' }, async () => {
    const database = await openDatabase({ databaseUrl: ctx.db.url, dataDir: '', poolSize: 2 });
    const second = await buildApp({ container: createContainer({ config: ctx.config, database, clock: ctx.clock }) });
    try {
      const shape: Shape = { sort: 'createdAt:asc', showDeleted: true };
      const page = DEEP_PAGE_OFFSET / 25 + 9;
      await assertExact(shape, page, 25);
      const position = (page - 1) * 25;
      await moveMark(position, (await walk(shape, page, 25)).ids[3]!);
      const moved = await served(shape, page, 25, second);
      assert.deepEqual(moved.ids.slice(0, 22), (await walk(shape, page, 25)).ids.slice(3), 'the other process read from this one\'s mark');
      await moveMark(position, (await walk(shape, page, 25)).ids[0]!);
      await assertExact(shape, page, 25, second);
      await assertExact(shape, page + 1, 25, second);
    } finally {
      await second.close();
      await database.close();
    }
  });

  test('an item of a deep page is the token as its own route shows it', async () => {
    const { items } = await served({ sort: 'displayName:desc' }, DEEP_PAGE_OFFSET / 25 + 1, 25);
    for (const item of items.slice(0, 3)) {
      const one = await call(ctx.app, org.adminKey, { method: 'GET', url: `${path}/${String(item.id)}` });
      assert.deepEqual(item, one.body.data);
    }
  });
});
