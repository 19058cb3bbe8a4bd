/**
 * GET …/mdm/{windows|apple}/devices/:id/commands and the `commands` counts of a device object:
 * the list query of CONTRACT.md section 4 (sort createdAt, updatedAt, status; createdAt:asc by
 * default; paging), the item shape of section 6, and the security cases of every route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CommandPlatform } from '../../../src/devices/commands/device-command.ts';
import { createAppleDevice } from '../../helpers/apple-factories.ts';
import { createKey, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { assertRouteSecurity } from '../../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { insertWindowsDevice } from '../../helpers/windows-device.ts';

let ctx: TestContext;
let a: TestOrg;
const devices: Record<CommandPlatform, string> = { windows: '', apple: '' };

before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  devices.windows = (await insertWindowsDevice(ctx, a.org)).id;
  devices.apple = (await createAppleDevice(ctx, a.org)).id;
});
after(() => ctx.close());

const path = (org: string, platform: CommandPlatform, id: string) => `/v1/organizations/${org}/mdm/${platform}/devices/${id}/commands`;
const list = (platform: CommandPlatform, query = '', key = a.adminKey, id = devices[platform]) => call(ctx.app, key, { method: 'GET', url: `${path(a.org.id, platform, id)}${query}` });

describe('security', () => {
  for (const platform of ['windows', 'apple'] as const) {
    test(`${platform}: no key, bad keys, another organization, a key without mdm.${platform}.device.get`, async () => {
      const t = await createOrg(ctx);
      const id = platform === 'windows' ? (await insertWindowsDevice(ctx, t.org)).id : (await createAppleDevice(ctx, t.org)).id;
      await assertRouteSecurity(ctx, { method: 'GET', path: (org) => path(org, platform, id), permission: `mdm.${platform}.device.get` });
    });

    test(`${platform}: viewers may read it; .list alone or the other platform's .get may not`, async () => {
      assert.equal((await list(platform, '', await createKey(ctx, a.org, { role: 'viewer' }))).status, 200);
      assert.equal((await list(platform, '', await createKey(ctx, a.org, { role: 'developer' }))).status, 200);
      for (const permissions of [[`mdm.${platform}.device.list`], [`mdm.${platform === 'windows' ? 'apple' : 'windows'}.device.get`]]) {
        const res = await list(platform, '', await createKey(ctx, a.org, { permissions }));
        assert.deepEqual([res.status, res.body.error.code], [403, 4003], permissions.join());
      }
    });
  }

  test("a device of the other platform, or an unknown one, is 404; a malformed id is 400", async () => {
    for (const [platform, id] of [['windows', devices.apple], ['apple', devices.windows], ['windows', '0123456789abcdef01234567']] as const) {
      const res = await list(platform, '', a.adminKey, id);
      assert.deepEqual([res.status, res.body.error.code], [404, 3001], `${platform} ${id}`);
    }
    const bad = await list('windows', '', a.adminKey, 'not-an-id');
    assert.deepEqual([bad.status, bad.body.error.code], [400, 3000]);
  });
});

describe('the list', () => {
  test('oldest first by default, sorted and paged on request; counts on the device, got and listed', async () => {
    const commands = ctx.container.deviceCommands;
    const db = ctx.container.database.db;
    const device = { id: devices.windows, platform: 'windows' as const };
    const at = (seconds: number) => new Date(ctx.clock.now().getTime() + seconds * 1000).toISOString();
    const [queuedAt, sentAt] = [at(0), at(2)];
    const [first, second] = await commands.enqueue(db, a.org.id, device, [
      { type: 'Replace', target: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', payload: { format: 'int', data: '0' }, source: { tokenId: '0123456789abcdef01234567', policyId: '89abcdef0123456789abcdef' } },
      { type: 'Get', target: './DevDetail/SwV' },
    ]);
    ctx.clock.advance(1000);
    const [third] = await commands.enqueue(db, a.org.id, device, [{ type: 'Add', target: './Vendor/MSFT/Example', payload: { format: 'chr', data: 'x' } }]);
    ctx.clock.advance(1000);
    // The first two go out in one message; the device acknowledges one and fails the other.
    await commands.next(a.org.id, device.id, { limit: 2, sentUnder: { sessionId: '1', msgId: '1', firstCmdId: 2 } });
    await commands.reportWindows(a.org.id, device.id, '1', [{ msgRef: '1', cmdRef: '2', code: 200 }, { msgRef: '1', cmdRef: '3', code: 404 }]);

    const all = await list('windows');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.data.items.map((c: { id: string }) => c.id), [first!.id, second!.id, third!.id]);
    assert.deepEqual(all.body.data.items[0], {
      id: first!.id,
      deviceId: device.id,
      type: 'Replace',
      target: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
      source: { tokenId: '0123456789abcdef01234567', policyId: '89abcdef0123456789abcdef' },
      status: 'acknowledged',
      result: { code: 200, message: 'OK' },
      createdAt: queuedAt,
      sentAt,
      completedAt: sentAt,
    });
    assert.deepEqual([all.body.data.items[1].status, all.body.data.items[1].result], ['error', { code: 404, message: 'Not found' }]);
    assert.deepEqual(all.body.data.items[2].sentAt, null);
    assert.doesNotMatch(JSON.stringify(all.body), /payload|cmdId|sessionId/, 'the protocol bookkeeping stays inside');

    const newest = await list('windows', '?sort=createdAt:desc');
    assert.deepEqual(newest.body.data.items.map((c: { id: string }) => c.id), [third!.id, second!.id, first!.id]);
    const byStatus = await list('windows', '?sort=status');
    assert.deepEqual(byStatus.body.data.items.map((c: { status: string }) => c.status), ['acknowledged', 'error', 'queued']);
    const page2 = await list('windows', '?limit=2&page=2');
    assert.deepEqual([page2.body.data.items.map((c: { id: string }) => c.id), page2.body.data.totalDocs, page2.body.data.totalPages, page2.body.data.prevPage, page2.body.data.nextPage], [[third!.id], 3, 2, 1, null]);
    const past = await list('windows', '?page=9');
    assert.deepEqual([past.body.data.items, past.body.data.totalDocs], [[], 3]);

    const counts = { queued: 1, sent: 0, acknowledged: 1, error: 1 };
    assert.deepEqual((await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/windows/devices/${device.id}` })).body.data.commands, counts);
    const listed = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/windows/devices` });
    assert.deepEqual(listed.body.data.items.find((d: { id: string }) => d.id === device.id).commands, counts);
    const apple = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${devices.apple}` });
    assert.deepEqual(apple.body.data.commands, { queued: 0, sent: 0, acknowledged: 0, error: 0 });
    assert.deepEqual((await list('apple')).body.data.items, [], "the Apple device's queue is its own");
  });

  test('an unknown sort field, a bad direction or an unknown parameter is 400 3000', async () => {
    for (const query of ['?sort=target', '?sort=createdAt:up', '?status=queued', '?limit=501', '?page=0']) {
      const res = await list('apple', query);
      assert.deepEqual([res.status, res.body.error.code], [400, 3000], query);
    }
  });
});

describe('the queue under concurrent takers', () => {
  test('several next() at once (as several server processes would) never hand out one command twice', async () => {
    const t = await createOrg(ctx);
    const device = { id: (await createAppleDevice(ctx, t.org)).id, platform: 'apple' as const };
    const commands = ctx.container.deviceCommands;
    const queued = await commands.enqueue(ctx.container.database.db, t.org.id, device, Array.from({ length: 12 }, () => ({ type: 'ProfileList', target: null })));
    const taken = (await Promise.all(Array.from({ length: 6 }, () => commands.next(t.org.id, device.id, { limit: 3 })))).flat().map((c) => c.id);
    assert.equal(new Set(taken).size, taken.length, 'no command taken twice');
    const rest = (await commands.next(t.org.id, device.id, { limit: 12 })).map((c) => c.id);
    assert.deepEqual([...taken, ...rest].sort(), queued.map((c) => c.id).sort(), 'every command taken once');
  });
});
