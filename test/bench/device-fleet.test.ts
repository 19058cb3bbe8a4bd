/**
 * The device benchmark measures its fleets only if what it seeds set-based is what the device
 * routes accept as enrolled devices, and its messages are answered as the benchmark expects:
 * a seeded PC's captured first message gets its 5 commands, its Statuses acknowledge them; a
 * seeded Apple device's signed reports get DeviceInformation, then its profile, then nothing.
 * bench/devices.ts counts a device whose conversation differs as a failure; this holds the
 * seeding and the messages to the routes on every change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedAppleFleet, seedWindowsFleet, WINDOWS_SETTINGS } from '../../bench/device-fleet.ts';
import { COMMAND, firstMessage, signReports, statusMessage, WIFI } from '../../bench/devices.ts';
import type { LoadedOrg } from '../../bench/dataset.ts';
import { createOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { BEHIND_PROXY, managementSession } from '../helpers/windows-device.ts';

let ctx: TestContext;
let org: LoadedOrg;
before(async () => {
  ctx = await buildTestApp(BEHIND_PROXY);
  const t = await createOrg(ctx);
  org = { id: t.org.id, slug: t.org.slug, key: t.adminKey, tokens: 0, users: 1 };
});
after(() => ctx.close());

describe('the device benchmark’s fleets', () => {
  test('a seeded Windows PC runs one session: its 5 commands, answered 200, acknowledged', async () => {
    const fleet = await seedWindowsFleet(ctx.container, org, 2);
    const pc = fleet.devices[1]!;
    const first = await managementSession(ctx, org.id, { deviceId: pc.identifier, pem: pc.certificatePem, body: firstMessage(pc.identifier, '1') });
    assert.equal(first.statusCode, 200, first.body);
    const commands = [...first.body.matchAll(COMMAND)].map((m) => ({ verb: m[1]!, cmdId: m[2]! }));
    assert.equal(commands.length, WINDOWS_SETTINGS.length, first.body);
    const msgRef = /<MsgID>([^<]+)<\/MsgID>/.exec(first.body)![1]!;
    const second = await managementSession(ctx, org.id, { deviceId: pc.identifier, pem: pc.certificatePem, body: statusMessage(pc.identifier, '1', 2, msgRef, commands) });
    assert.equal(second.statusCode, 200, second.body);
    assert.equal([...second.body.matchAll(COMMAND)].length, 0, 'the session ends');
    const device = await call(ctx.app, org.key, { method: 'GET', url: `/v1/organizations/${org.id}/mdm/windows/devices/${pc.id}` });
    assert.deepEqual(device.body.data.commands, { queued: 0, sent: 0, acknowledged: 5, error: 0 });
  });

  test('a seeded Apple device’s signed reports: DeviceInformation, its profile, then the empty answer', async () => {
    const fleet = await seedAppleFleet(ctx.container, org, 2, { topic: 'com.apple.mgmt.External.bench', profile: WIFI });
    const [reports] = await signReports([fleet.devices[0]!], fleet.signingKey);
    assert.equal(reports!.length, 3);
    const answered: (string | null)[] = [];
    for (const r of reports!) {
      const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${org.id}/server`, payload: r.body, headers: { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': r.signature } });
      assert.equal(res.statusCode, 200, res.body);
      answered.push(res.body === '' ? null : /<key>CommandUUID<\/key>\s*<string>([^<]+)<\/string>/.exec(res.body)![1]!);
    }
    assert.deepEqual(answered, reports!.map((r) => r.expect));
    assert.deepEqual(answered, [...fleet.devices[0]!.commandIds, null]);
    const device = await call(ctx.app, org.key, { method: 'GET', url: `/v1/organizations/${org.id}/mdm/apple/devices/${fleet.devices[0]!.id}` });
    assert.deepEqual(device.body.data.commands, { queued: 0, sent: 0, acknowledged: 2, error: 0 });
    assert.equal(device.body.data.deviceName, 'Fleet iPhone', 'the DeviceInformation answers are stored');
  });
});
