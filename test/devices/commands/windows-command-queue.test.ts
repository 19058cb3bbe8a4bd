/**
 * The command queue through the Windows adapter, end to end in the style of NanoMDM's e2e
 * suite: a PC enrolled through the real endpoints, two commands queued through the service, the
 * OMA-DM session hands them out after its Statuses (Microsoft's first-session message, from
 * test/fixtures/windows), the device's Statuses complete them, a new SessionID sends an
 * unanswered one again, retire and Alert 1226 clear the queue, another organization sees nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Element } from '@xmldom/xmldom';
import type { NewDeviceCommand } from '../../../src/devices/commands/device-command.ts';
import { createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { all, BEHIND_PROXY, enrollWindowsDevice, managementSession, parse, syncmlBody, text, type EnrolledWindowsDevice } from '../../helpers/windows-device.ts';

let ctx: TestContext;
let a: TestOrg;
let b: TestOrg;

before(async () => {
  ctx = await buildTestApp(BEHIND_PROXY);
  a = await createOrg(ctx);
  b = await createOrg(ctx);
});
after(() => ctx.close());

const CAMERA: NewDeviceCommand = { type: 'Replace', target: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', payload: { format: 'int', data: '0' } };
const NOTE: NewDeviceCommand = { type: 'Add', target: './Device/Vendor/MSFT/Personalization/LockScreenImageUrl', payload: { format: 'chr', data: 'https://example.test/a.png?x=1&y=<2>' } };
const LATER: NewDeviceCommand = { type: 'Replace', target: './Device/Vendor/MSFT/Policy/Config/Browser/AllowDoNotTrack', payload: { format: 'int', data: '1' } };

const devicesPath = (t: TestOrg) => `/v1/organizations/${t.org.id}/mdm/windows/devices`;

async function enrolled(t: TestOrg, deviceId: string): Promise<EnrolledWindowsDevice & { id: string }> {
  const device = await enrollWindowsDevice(ctx, t, deviceId);
  const list = await call(ctx.app, t.adminKey, { method: 'GET', url: `${devicesPath(t)}?limit=500` });
  const row = list.body.data.items.find((d: { deviceId: string }) => d.deviceId === deviceId);
  return { ...device, id: row.id };
}

const enqueue = (t: TestOrg, device: { id: string }, commands: NewDeviceCommand[]) =>
  ctx.container.deviceCommands.enqueue(ctx.container.database.db, t.org.id, { id: device.id, platform: 'windows' }, commands);

/** Microsoft's first-session message of the fixtures, in session `sessionId`. */
const opening = (deviceId: string, sessionId: string) => syncmlBody('syncml-first-session.xml', deviceId).replace('<SessionID>1</SessionID>', `<SessionID>${sessionId}</SessionID>`);

/**
 * The device's next message in a session (OMA-DM 1.2 package 3, as MS-MDM section 4 shows it):
 * a Status for the server's header, then one per command, each naming the server message
 * (MsgRef) and the command (CmdRef) with its code.
 */
function answer(deviceId: string, sessionId: string, msgId: string, statuses: { msgRef: string; cmdRef: string; cmd: string; code: number }[]): string {
  let cmdId = 0;
  const status = (s: { msgRef: string; cmdRef: string; cmd: string; code: number }) =>
    `<Status><CmdID>${++cmdId}</CmdID><MsgRef>${s.msgRef}</MsgRef><CmdRef>${s.cmdRef}</CmdRef><Cmd>${s.cmd}</Cmd><Data>${s.code}</Data></Status>`;
  return (
    `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${sessionId}</SessionID><MsgID>${msgId}</MsgID>` +
    `<Target><LocURI>https://mdm.example.test/ManagementServer/MDM.svc</LocURI></Target><Source><LocURI>${deviceId}</LocURI></Source></SyncHdr>` +
    `<SyncBody>${[{ msgRef: String(Number(msgId) - 1), cmdRef: '0', cmd: 'SyncHdr', code: 200 }, ...statuses].map(status).join('')}<Final/></SyncBody></SyncML>`
  );
}

async function session(t: TestOrg, device: EnrolledWindowsDevice, body: string) {
  const res = await managementSession(ctx, t.org.id, { deviceId: device.deviceId, pem: device.pem, body });
  assert.equal(res.statusCode, 200, res.body);
  return parse(res.body);
}

/** The server's commands in an answer (every SyncBody child but Status and Final). */
const commandsOf = (root: Element): Element[] =>
  Array.from(all(root, 'SyncBody')[0]!.childNodes).filter((n): n is Element => n.nodeType === 1 && !['Status', 'Final'].includes((n as Element).localName ?? ''));

const queueOf = async (t: TestOrg, id: string, query = '') => call(ctx.app, t.adminKey, { method: 'GET', url: `${devicesPath(t)}/${id}/commands${query}` });
const countsOf = async (t: TestOrg, id: string) => (await call(ctx.app, t.adminKey, { method: 'GET', url: `${devicesPath(t)}/${id}` })).body.data.commands;

describe('the Windows session delivers the queue', () => {
  test('in order after the Statuses, completed by the Statuses, then the session ends', async () => {
    const pc = await enrolled(a, 'C0000000-0000-4000-8000-000000000001');
    const queued = await enqueue(a, pc, [CAMERA, NOTE]);
    assert.deepEqual(await countsOf(a, pc.id), { queued: 2, sent: 0, acknowledged: 0, error: 0 });

    const first = await session(a, pc, opening(pc.deviceId, '1'));
    const body = all(first, 'SyncBody')[0]!;
    const kinds = Array.from(body.childNodes).filter((n) => n.nodeType === 1).map((n) => (n as Element).localName);
    assert.deepEqual(kinds, ['Status', 'Status', 'Status', 'Status', 'Replace', 'Add', 'Final'], 'Statuses, then the commands in order, then Final');
    const cmdIds = all(first, 'CmdID').map((e) => e.textContent);
    assert.equal(new Set(cmdIds).size, cmdIds.length, 'CmdIDs unique in the message');
    const [replace, add] = commandsOf(first);
    assert.equal(text(replace!, 'CmdID'), '5');
    assert.equal(text(add!, 'CmdID'), '6');
    assert.equal(text(replace!, 'LocURI'), CAMERA.target);
    const format = all(replace!, 'Format')[0]!;
    assert.equal(format.namespaceURI, 'syncml:metinf');
    assert.equal(format.textContent, 'int');
    assert.equal(text(replace!, 'Data'), '0');
    assert.equal(text(add!, 'Data'), 'https://example.test/a.png?x=1&y=<2>', 'Data escaped in the XML, the same text once parsed');
    assert.equal(all(first, 'MsgID')[0]!.textContent, '1');

    const sent = await queueOf(a, pc.id);
    assert.deepEqual(sent.body.data.items.map((c: { id: string; status: string }) => [c.id, c.status]), queued.map((c) => [c.id, 'sent']));
    assert.equal(typeof sent.body.data.items[0].sentAt, 'string');

    const second = await session(a, pc, answer(pc.deviceId, '1', '2', [
      { msgRef: '1', cmdRef: '5', cmd: 'Replace', code: 200 },
      { msgRef: '1', cmdRef: '6', cmd: 'Add', code: 418 },
    ]));
    assert.equal(commandsOf(second).length, 0, 'nothing left: Statuses and Final end the session');
    assert.ok(all(second, 'Final').length === 1);

    const done = await queueOf(a, pc.id);
    const [camera, note] = done.body.data.items;
    assert.deepEqual([camera.status, camera.result], ['acknowledged', { code: 200, message: 'OK' }]);
    assert.deepEqual([note.status, note.result], ['error', { code: 418, message: 'Already exists' }]);
    assert.equal(typeof camera.completedAt, 'string');
    assert.deepEqual(camera.source, { tokenId: null, policyId: null });
    assert.deepEqual(camera.target, CAMERA.target);
    assert.deepEqual(await countsOf(a, pc.id), { queued: 0, sent: 0, acknowledged: 1, error: 1 });
  });

  test('a command sent in a session that broke goes out again in the next SessionID; stale Statuses complete nothing', async () => {
    const pc = await enrolled(a, 'C0000000-0000-4000-8000-000000000002');
    const [later] = await enqueue(a, pc, [LATER]);
    const broken = await session(a, pc, opening(pc.deviceId, '2'));
    assert.equal(text(commandsOf(broken)[0]!, 'LocURI'), LATER.target);
    assert.equal((await queueOf(a, pc.id)).body.data.items[0].status, 'sent');

    // The PC never answers session 2; it opens session 3, whose answer offers the command again.
    const again = await session(a, pc, opening(pc.deviceId, '3'));
    const [offered] = commandsOf(again);
    assert.equal(text(offered!, 'LocURI'), LATER.target);
    // A Status naming the command as session 2 sent it is no answer in session 3.
    await session(a, pc, answer(pc.deviceId, '3', '2', [{ msgRef: '9', cmdRef: text(offered!, 'CmdID')!, cmd: 'Replace', code: 200 }]));
    assert.equal((await queueOf(a, pc.id)).body.data.items[0].status, 'sent', 'a MsgRef of no server message completes nothing');
    // The session starts over again (4) and this time the PC answers.
    const fourth = await session(a, pc, opening(pc.deviceId, '4'));
    const cmdId = text(commandsOf(fourth)[0]!, 'CmdID')!;
    await session(a, pc, answer(pc.deviceId, '4', '2', [{ msgRef: '1', cmdRef: cmdId, cmd: 'Replace', code: 200 }]));
    const [row] = (await queueOf(a, pc.id)).body.data.items;
    assert.deepEqual([row.id, row.status], [later!.id, 'acknowledged']);
  });
});

describe('clearing and isolation', () => {
  test('retire clears what is pending; the history stays', async () => {
    const pc = await enrolled(a, 'C0000000-0000-4000-8000-000000000003');
    await enqueue(a, pc, [CAMERA]);
    const first = await session(a, pc, opening(pc.deviceId, '1'));
    await session(a, pc, answer(pc.deviceId, '1', '2', [{ msgRef: '1', cmdRef: text(commandsOf(first)[0]!, 'CmdID')!, cmd: 'Replace', code: 200 }]));
    await enqueue(a, pc, [NOTE, LATER]);
    await session(a, pc, opening(pc.deviceId, '2'));
    assert.deepEqual(await countsOf(a, pc.id), { queued: 0, sent: 2, acknowledged: 1, error: 0 });
    const retired = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${devicesPath(a)}/${pc.id}` });
    assert.equal(retired.status, 200);
    assert.deepEqual(retired.body.data.commands, { queued: 0, sent: 0, acknowledged: 1, error: 0 });
    assert.deepEqual((await queueOf(a, pc.id)).body.data.items.map((c: { status: string }) => c.status), ['acknowledged']);
  });

  test("the device's own unenrollment (Alert 1226) clears its queue and sends nothing", async () => {
    const pc = await enrolled(a, 'C0000000-0000-4000-8000-000000000004');
    await enqueue(a, pc, [CAMERA, NOTE]);
    const bye = await session(a, pc, syncmlBody('syncml-unenroll.xml', pc.deviceId));
    assert.equal(commandsOf(bye).length, 0);
    assert.deepEqual(await countsOf(a, pc.id), { queued: 0, sent: 0, acknowledged: 0, error: 0 });
  });

  test('another organization never sees the queue, nor its counts', async () => {
    const pc = await enrolled(a, 'C0000000-0000-4000-8000-000000000005');
    await enqueue(a, pc, [CAMERA]);
    for (const url of [`${devicesPath(a)}/${pc.id}/commands`, `${devicesPath(b)}/${pc.id}/commands`]) {
      const res = await call(ctx.app, b.adminKey, { method: 'GET', url });
      assert.deepEqual([res.status, res.body.error.code], [404, 3001], url);
    }
    // The same DeviceID enrolled in B has a queue of its own: empty, and A's stays queued.
    const twin = await enrolled(b, pc.deviceId);
    const answered = await session(b, twin, opening(twin.deviceId, '1'));
    assert.equal(commandsOf(answered).length, 0);
    assert.equal((await queueOf(b, twin.id)).body.data.totalDocs, 0);
    assert.deepEqual(await countsOf(a, pc.id), { queued: 1, sent: 0, acknowledged: 0, error: 0 });
  });
});
