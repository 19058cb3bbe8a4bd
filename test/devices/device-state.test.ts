import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql, type SQL } from 'drizzle-orm';
import { APPLE_STATE_LITERALS, DEVICE_STATES, deviceState, STATE_LITERALS, stateLiteral, WINDOWS_STATE_LITERALS } from '../../src/devices/device-state.ts';
import { AppleDevice, WindowsDevice } from '../../src/devices/devices.schemas.ts';
import { PLATFORMS } from '../../src/platforms/platforms.ts';
import { createAppleDevice } from '../helpers/apple-factories.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { insertWindowsDevice } from '../helpers/windows-device.ts';

/**
 * The device state is written twice (device-state.ts): the one vocabulary for code, each
 * platform's literals for its table, its indexes and its API. Here the two are held equal.
 */

let ctx: TestContext;
let org: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  org = await createOrg(ctx);
});
after(() => ctx.close());

const select = async <T>(query: SQL): Promise<T[]> => ((await ctx.container.database.db.execute(query)) as unknown as { rows: T[] }).rows;

test('every literal of a platform means one state and back; Windows has no authenticated step', () => {
  for (const platform of PLATFORMS) {
    const literals = Object.values(STATE_LITERALS[platform]);
    assert.equal(new Set(literals).size, literals.length, `${platform}: distinct literals`);
    for (const literal of literals) assert.equal(stateLiteral(platform, deviceState(platform, literal)), literal);
    assert.throws(() => deviceState(platform, 'pending'));
  }
  for (const state of DEVICE_STATES) assert.equal(deviceState('apple', stateLiteral('apple', state)), state);
  assert.throws(() => stateLiteral('windows', 'authenticated'));
  // A case-folded literal of the other platform is not a state: the tables are not interchangeable.
  assert.throws(() => deviceState('windows', 'ENROLLED'));
  assert.throws(() => deviceState('apple', 'enrolled'));
});

test("each API's state enum is its platform's literals, in the vocabulary's order", () => {
  const enumOf = (schema: { properties: { state: { anyOf: { const: string }[] } } }) => schema.properties.state.anyOf.map((s) => s.const);
  assert.deepEqual(enumOf(WindowsDevice as never), [...WINDOWS_STATE_LITERALS]);
  assert.deepEqual(enumOf(AppleDevice as never), [...APPLE_STATE_LITERALS]);
  assert.deepEqual(WINDOWS_STATE_LITERALS, DEVICE_STATES.filter((s) => s !== 'authenticated').map((s) => stateLiteral('windows', s)));
  assert.deepEqual(APPLE_STATE_LITERALS, DEVICE_STATES.map((s) => stateLiteral('apple', s)));
});

test("the migrated database's one-enrolled-device indexes name each platform's enrolled literal", async () => {
  const rows = await select<{ indexname: string; indexdef: string }>(
    sql`select indexname, indexdef from pg_indexes where indexname in ('windows_devices_org_identifier_enrolled_idx', 'apple_devices_org_enrolled_udid_idx') order by indexname`,
  );
  assert.equal(rows.length, 2);
  const predicate = (name: string) => rows.find((r) => r.indexname === name)!.indexdef.replace(/^.* WHERE /, '');
  assert.match(predicate('apple_devices_org_enrolled_udid_idx'), new RegExp(`state\\)?::text\\)? = '${stateLiteral('apple', 'enrolled')}'|state = '${stateLiteral('apple', 'enrolled')}'`));
  assert.match(predicate('windows_devices_org_identifier_enrolled_idx'), new RegExp(`state\\)?::text\\)? = '${stateLiteral('windows', 'enrolled')}'|state = '${stateLiteral('windows', 'enrolled')}'`));
});

test('a device retired through the API is stored and shown as its platform spells unenrolled', async () => {
  const windows = await insertWindowsDevice(ctx, org.org);
  const apple = await createAppleDevice(ctx, org.org);
  for (const [platform, id, table] of [['windows', windows.id, 'windows_devices'], ['apple', apple.id, 'apple_devices']] as const) {
    const before = await call(ctx.app, org.adminKey, { method: 'GET', url: `/v1/organizations/${org.org.id}/mdm/${platform}/devices/${id}` });
    assert.equal(deviceState(platform, before.body.data.state), 'enrolled');
    const retired = await call(ctx.app, org.adminKey, { method: 'DELETE', url: `/v1/organizations/${org.org.id}/mdm/${platform}/devices/${id}` });
    assert.equal(retired.status, 200);
    assert.equal(retired.body.data.state, stateLiteral(platform, 'unenrolled'));
    const rows = await select<{ state: string }>(sql`select state from ${sql.identifier(table)} where organization_id = ${org.org.id} and id = ${id}`);
    assert.equal(rows[0]!.state, stateLiteral(platform, 'unenrolled'));
  }
});
