/**
 * The conformance run of issue 24, played here: the captured Windows 10 PC (Fleet's dump,
 * test/fixtures/windows) enrolls with a token assigned two overlapping policies; its first
 * session (the PC's own captured SyncML message) carries the winning settings; it answers them,
 * one with an error; the API shows every command's end and the token's trail what was queued.
 * MaxMsgSize in the PC's header splits the commands over the session's messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Element } from '@xmldom/xmldom';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { fleetCapturedRequest, FLEET_DEVICE_ID, withCredentials } from '../../helpers/fleet-windows-dump.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';
import { all, BEHIND_PROXY, deviceCertificateOf, faultSubcode, managementSession, parse, text } from '../../helpers/windows-device.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  // Webhook endpoints on loopback's discard port: no sender runs here, the deliveries are read through the API.
  ctx = await buildTestApp({ ...BEHIND_PROXY, webhookAllowPrivateNetworks: true });
  a = await createOrg(ctx);
});
after(() => ctx.close());

const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const PRINTERS = './Device/Vendor/MSFT/Policy/Config/Education/PrinterNames';
const BLOB = './Vendor/MSFT/DMClient/Provider/Openroll/Blob';
const HIDE_SLEEP = './User/Vendor/MSFT/Policy/Config/Start/HideSleep';

const policiesPath = () => `/v1/organizations/${a.org.id}/mdm/windows/enterprise/policies`;
const devicesPath = () => `/v1/organizations/${a.org.id}/mdm/windows/devices`;

async function policy(name: string, settings: object[]): Promise<string> {
  const res = await call(ctx.app, a.adminKey, { method: 'POST', url: policiesPath(), payload: { name, settings } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id;
}

/** The captured PC's enrollment (Fleet's RequestSecurityToken, only its demo credentials replaced). */
async function enrollCapturedPc(assignments: { winPolicyId: string; priority: number }[]) {
  const user = await createMdmUser(ctx, a.org);
  const token = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, winPolicyAssignments: assignments });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/EnrollmentServer/Enrollment.svc',
    headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
    payload: withCredentials(fleetCapturedRequest('/EnrollmentServer/Enrollment.svc').body, user.email, token.body.data.enrollCode),
  });
  assert.equal(faultSubcode(res.body), undefined, res.body);
  const list = await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}?limit=500` });
  const device = list.body.data.items.find((d: { deviceId: string; state: string }) => d.deviceId === FLEET_DEVICE_ID && d.state === 'enrolled');
  return { tokenId: token.body.data.id as string, id: device.id as string, pem: deviceCertificateOf(res.body) };
}

/** The PC's first message of a session, as captured (session 1), in session `sessionId`, with MaxMsgSize when given. */
function captured(sessionId: string, maxMsgSize?: number): string {
  const body = fleetCapturedRequest('/ManagementServer/MDM.svc').body;
  // Only the ids that must differ are changed: the SessionID, and a SyncHdr Meta (OMA-DM 1.2 places MaxMsgSize there).
  const withSession = body.replace('<SessionID>1</SessionID>', `<SessionID>${sessionId}</SessionID>`);
  return maxMsgSize === undefined ? withSession : withSession.replace('</SyncHdr>', `<Meta><MaxMsgSize xmlns="syncml:metinf">${maxMsgSize}</MaxMsgSize></Meta></SyncHdr>`);
}

type Answer = { cmdRef: string; cmd: string; code: number; detail?: string };
/** The PC's next message (MS-MDM section 4, package 3): Status for the header and one per command. */
function answer(sessionId: string, msgId: string, msgRef: string, statuses: Answer[]): string {
  let cmdId = 0;
  const status = (s: Answer) =>
    `<Status><CmdID>${++cmdId}</CmdID><MsgRef>${msgRef}</MsgRef><CmdRef>${s.cmdRef}</CmdRef><Cmd>${s.cmd}</Cmd><Data>${s.code}</Data>${s.detail ? `<Item><Data>${s.detail}</Data></Item>` : ''}</Status>`;
  return (
    `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${sessionId}</SessionID><MsgID>${msgId}</MsgID>` +
    `<Target><LocURI>https://mdm.example.test/ManagementServer/MDM.svc</LocURI></Target><Source><LocURI>${FLEET_DEVICE_ID}</LocURI></Source></SyncHdr>` +
    `<SyncBody>${[{ cmdRef: '0', cmd: 'SyncHdr', code: 200 }, ...statuses].map(status).join('')}<Final/></SyncBody></SyncML>`
  );
}

async function session(pc: { pem: string }, body: string) {
  const res = await managementSession(ctx, a.org.id, { deviceId: FLEET_DEVICE_ID, pem: pc.pem, body });
  assert.equal(res.statusCode, 200, res.body);
  return { root: parse(res.body), bytes: Buffer.byteLength(res.body) };
}

const commandsOf = (root: Element): Element[] =>
  Array.from(all(root, 'SyncBody')[0]!.childNodes).filter((n): n is Element => n.nodeType === 1 && !['Status', 'Final'].includes((n as Element).localName ?? ''));

/** An endpoint of `t` for `events` (every event when not given), and its deliveries of command events, oldest first. */
async function endpoint(t: TestOrg, events?: string[]) {
  const res = await call(ctx.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks`, payload: { url: 'http://127.0.0.1:9/hook', ...(events ? { events } : {}) } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id as string;
}
async function commandEvents(t: TestOrg, hookId: string) {
  const res = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/webhooks/${hookId}/deliveries?limit=500` });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return [...res.body.data.items].reverse().filter((d: { eventType: string }) => d.eventType.startsWith('device.')) as Array<{ eventType: string; tokenId: string; payload: { type: string; timestamp: string; data: Record<string, unknown> } }>;
}

const retire = (id: string) => call(ctx.app, a.adminKey, { method: 'DELETE', url: `${devicesPath()}/${id}` });

describe('a Windows PC gets its token’s policies', () => {
  test('two overlapping policies: the winners are queued at redemption, delivered, answered, and shown', async () => {
    const strict = await policy('Strict', [
      { locUri: CAMERA, format: 'int', data: '0' },
      { locUri: PRINTERS, format: 'chr', data: 'Hall <1> & 2' },
    ]);
    const loose = await policy('Loose', [
      { locUri: CAMERA, format: 'int', data: '1' },
      { locUri: BLOB, format: 'b64', data: 'aGVsbG8=' },
      { locUri: HIDE_SLEEP, format: 'bool', data: 'true', verb: 'Add' },
    ]);
    const pc = await enrollCapturedPc([{ winPolicyId: loose, priority: 5 }, { winPolicyId: strict, priority: 1 }]);

    const queued = (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}/commands` })).body.data.items;
    assert.deepEqual(
      queued.map((c: { type: string; target: string; source: object; status: string }) => [c.type, c.target, c.source, c.status]),
      [
        ['Replace', CAMERA, { tokenId: pc.tokenId, policyId: strict }, 'queued'],
        ['Replace', PRINTERS, { tokenId: pc.tokenId, policyId: strict }, 'queued'],
        ['Replace', BLOB, { tokenId: pc.tokenId, policyId: loose }, 'queued'],
        ['Add', HIDE_SLEEP, { tokenId: pc.tokenId, policyId: loose }, 'queued'],
      ],
      'one command per LocURI, the lower priority number wins, in precedence order',
    );
    const trail = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${pc.tokenId}/events` });
    const note = trail.body.data.items.find((e: { type: string }) => e.type === 'commands.queued');
    assert.ok(note, JSON.stringify(trail.body.data.items.map((e: { type: string }) => e.type)));
    assert.deepEqual(note.changes.commands.map((c: { id: string }) => c.id), queued.map((c: { id: string }) => c.id));

    const first = await session(pc, captured('1'));
    const sent = commandsOf(first.root);
    assert.deepEqual(sent.map((c) => [c.localName, text(c, 'LocURI')]), [['Replace', CAMERA], ['Replace', PRINTERS], ['Replace', BLOB], ['Add', HIDE_SLEEP]]);
    const ids = all(first.root, 'CmdID').map((e) => e.textContent);
    assert.equal(new Set(ids).size, ids.length, 'CmdID unique in the message');
    for (const c of sent) assert.equal(all(c, 'Format')[0]!.namespaceURI, 'syncml:metinf');
    assert.equal(text(sent[1]!, 'Data'), 'Hall <1> & 2');
    assert.equal(text(sent[2]!, 'Data'), 'aGVsbG8=');

    const reply = await session(pc, answer('1', '2', '1', [
      { cmdRef: text(sent[0]!, 'CmdID')!, cmd: 'Replace', code: 200 },
      { cmdRef: text(sent[1]!, 'CmdID')!, cmd: 'Replace', code: 405, detail: 'The node is read-only' },
      { cmdRef: text(sent[2]!, 'CmdID')!, cmd: 'Replace', code: 200 },
      { cmdRef: text(sent[3]!, 'CmdID')!, cmd: 'Add', code: 418 },
    ]));
    assert.equal(commandsOf(reply.root).length, 0, 'nothing left: the session ends');

    const done = (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}/commands` })).body.data.items;
    assert.deepEqual(
      done.map((c: { status: string; result: object }) => [c.status, c.result]),
      [
        ['acknowledged', { code: 200, message: 'OK' }],
        ['error', { code: 405, message: 'Command not allowed: The node is read-only' }],
        ['acknowledged', { code: 200, message: 'OK' }],
        ['error', { code: 418, message: 'Already exists' }],
      ],
    );
    const device = (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}` })).body.data;
    assert.deepEqual(device.commands, { queued: 0, sent: 0, acknowledged: 2, error: 2 });
    assert.equal((await retire(pc.id)).status, 200);
  });

  test("MaxMsgSize in the PC's header splits the commands over the session's messages", async () => {
    const big = 'x'.repeat(1_500);
    const settings = Array.from({ length: 6 }, (_, i) => ({ locUri: `./Device/Vendor/MSFT/Big/${i}`, format: 'chr', data: big }));
    const pc = await enrollCapturedPc([{ winPolicyId: await policy('Big', settings), priority: 0 }]);
    const max = 4_000;
    let res = await session(pc, captured('7', max));
    const seen: string[] = [];
    for (let msg = 2; ; msg++) {
      assert.ok(res.bytes <= max, `answer of ${res.bytes} bytes within MaxMsgSize ${max}`);
      const sent = commandsOf(res.root);
      if (sent.length === 0) break;
      assert.ok(sent.length < 6, 'split');
      seen.push(...sent.map((c) => text(c, 'LocURI')!));
      const msgRef = all(res.root, 'MsgID')[0]!.textContent!;
      const body = answer('7', String(msg), msgRef, sent.map((c) => ({ cmdRef: text(c, 'CmdID')!, cmd: 'Replace', code: 200 })));
      res = await session(pc, body.replace('</SyncHdr>', `<Meta><MaxMsgSize xmlns="syncml:metinf">${max}</MaxMsgSize></Meta></SyncHdr>`));
    }
    assert.deepEqual(seen, settings.map((s) => s.locUri));
    const device = (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}` })).body.data;
    assert.deepEqual(device.commands, { queued: 0, sent: 0, acknowledged: 6, error: 0 });
    assert.equal((await retire(pc.id)).status, 200);
  });

  test('a policy edited after enrollment reaches the device in its next session; a setting another policy wins is not sent', async () => {
    const shared = await policy('Shared', [{ locUri: CAMERA, format: 'int', data: '0' }]);
    const winner = await policy('Winner', [{ locUri: PRINTERS, format: 'chr', data: 'Mine' }]);
    const pc = await enrollCapturedPc([{ winPolicyId: shared, priority: 2 }, { winPolicyId: winner, priority: 1 }]);
    const first = await session(pc, captured('11'));
    const sent = commandsOf(first.root);
    await session(pc, answer('11', '2', '1', sent.map((c) => ({ cmdRef: text(c, 'CmdID')!, cmd: 'Replace', code: 200 }))));

    // The edit: the camera value changes, a printer setting (Winner's LocURI) and a new one are added.
    const edited = await call(ctx.app, a.adminKey, {
      method: 'PUT',
      url: `${policiesPath()}/${shared}`,
      payload: { settings: [{ locUri: CAMERA, format: 'int', data: '1' }, { locUri: PRINTERS, format: 'chr', data: 'Theirs' }, { locUri: BLOB, format: 'b64', data: 'aGk=' }] },
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    // An edit that changes no setting queues nothing.
    assert.equal((await call(ctx.app, a.adminKey, { method: 'PUT', url: `${policiesPath()}/${shared}`, payload: { name: 'Shared again', settings: edited.body.data.settings } })).status, 200);

    const next = await session(pc, captured('12'));
    const delivered = commandsOf(next.root);
    assert.deepEqual(delivered.map((c) => [text(c, 'LocURI'), text(c, 'Data')]), [[CAMERA, '1'], [BLOB, 'aGk=']]);
    const queue = (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}/commands?limit=100` })).body.data.items;
    assert.equal(queue.length, 4);
    assert.deepEqual(queue.slice(2).map((c: { source: object }) => c.source), [{ tokenId: pc.tokenId, policyId: shared }, { tokenId: pc.tokenId, policyId: shared }]);
    assert.match(queue[2].id, /^[a-f0-9]{24}$/);
    assert.equal((await retire(pc.id)).status, 200);
  });

  test('each answered command is a webhook event with the command; a re-queued one is none; other endpoints get nothing', async () => {
    const wanted = await endpoint(a, ['device.command.acknowledged', 'device.command.failed']);
    const onlyFailed = await endpoint(a, ['device.command.failed']);
    const unsubscribed = await endpoint(a, ['enrollmentToken.redeemed']);
    const b = await createOrg(ctx);
    const theirs = await endpoint(b);
    const pc = await enrollCapturedPc([{ winPolicyId: await policy('Evented', [
      { locUri: CAMERA, format: 'int', data: '0' },
      { locUri: PRINTERS, format: 'chr', data: 'Hall' },
      { locUri: BLOB, format: 'b64', data: 'aGk=' },
    ]), priority: 0 }]);

    const first = commandsOf((await session(pc, captured('21'))).root);
    assert.equal(first.length, 3);
    // The PC answers two of them; the third is never answered in this session.
    await session(pc, answer('21', '2', '1', [
      { cmdRef: text(first[0]!, 'CmdID')!, cmd: 'Replace', code: 200 },
      { cmdRef: text(first[1]!, 'CmdID')!, cmd: 'Replace', code: 405, detail: 'The node is read-only' },
    ]));
    assert.equal((await commandEvents(a, wanted)).length, 2);
    // A new session: the unanswered command goes back to the queue (no event) and out again.
    const again = commandsOf((await session(pc, captured('22'))).root);
    assert.deepEqual(again.map((c) => text(c, 'LocURI')), [BLOB]);
    assert.equal((await commandEvents(a, wanted)).length, 2, 're-queued is not an end');
    await session(pc, answer('22', '2', '1', [{ cmdRef: text(again[0]!, 'CmdID')!, cmd: 'Replace', code: 200 }]));
    // A repeated Status for a command already completed is no second event.
    await session(pc, answer('22', '3', '1', [{ cmdRef: text(again[0]!, 'CmdID')!, cmd: 'Replace', code: 200 }]));

    const items = (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}/commands` })).body.data.items as Array<{ id: string; target: string }>;
    const byTarget = (target: string) => items.find((c) => c.target === target)!;
    const events = await commandEvents(a, wanted);
    assert.deepEqual(events.map((e) => [e.eventType, e.payload.type, (e.payload.data.command as { target: string }).target]), [
      ['device.command.acknowledged', 'device.command.acknowledged', CAMERA],
      ['device.command.failed', 'device.command.failed', PRINTERS],
      ['device.command.acknowledged', 'device.command.acknowledged', BLOB],
    ]);
    for (const e of events) {
      const command = e.payload.data.command as { target: string; completedAt: string };
      assert.deepEqual(e.payload.data, { organizationId: a.org.id, platform: 'windows', deviceId: pc.id, tokenId: pc.tokenId, command: byTarget(command.target) }, 'the command as the API lists it');
      assert.equal(e.payload.timestamp, command.completedAt);
      assert.equal(e.tokenId, pc.tokenId);
    }
    assert.deepEqual((events[1]!.payload.data.command as { result: object }).result, { code: 405, message: 'Command not allowed: The node is read-only' });
    assert.deepEqual((await commandEvents(a, onlyFailed)).map((e) => e.eventType), ['device.command.failed']);
    assert.deepEqual(await commandEvents(a, unsubscribed), []);
    assert.deepEqual(await commandEvents(b, theirs), [], 'another organization’s endpoint');
    for (const id of [wanted, onlyFailed, unsubscribed]) assert.equal((await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/webhooks/${id}` })).status, 200);
    assert.equal((await retire(pc.id)).status, 200);
  });

  test('a redeemed token given another policy: its PC gets the changed and added winners in its next session, once', async () => {
    const first = await policy('First', [{ locUri: CAMERA, format: 'int', data: '0' }, { locUri: PRINTERS, format: 'chr', data: 'Hall' }]);
    const pc = await enrollCapturedPc([{ winPolicyId: first, priority: 5 }]);
    const sent = commandsOf((await session(pc, captured('31'))).root);
    await session(pc, answer('31', '2', '1', sent.map((c) => ({ cmdRef: text(c, 'CmdID')!, cmd: 'Replace', code: 200 }))));
    const tokenUrl = `${tokensPath(a.org.id, 'windows')}/${pc.tokenId}`;
    const put = (payload: object) => call(ctx.app, a.adminKey, { method: 'PUT', url: tokenUrl, payload });
    const queuedCount = async () => (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}` })).body.data.commands.queued;

    // Another policy that wins the camera with another value, sets the printers the same way, and adds a blob.
    const second = await policy('Second', [{ locUri: CAMERA, format: 'int', data: '1' }, { locUri: PRINTERS, format: 'chr', data: 'Hall' }, { locUri: BLOB, format: 'b64', data: 'aGk=' }]);
    const assignments = [{ winPolicyId: first, priority: 5 }, { winPolicyId: second, priority: 1 }];
    const res = await put({ winPolicyAssignments: assignments });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.state, 'DONE');
    assert.equal(await queuedCount(), 2);
    // The same assignments again, or a change of the name only: nothing more.
    assert.equal((await put({ winPolicyAssignments: assignments })).status, 200);
    assert.equal((await put({ displayName: 'Renamed PC' })).status, 200);
    assert.equal(await queuedCount(), 2);

    const next = commandsOf((await session(pc, captured('32'))).root);
    assert.deepEqual(next.map((c) => [c.localName, text(c, 'LocURI'), text(c, 'Data')]), [['Replace', CAMERA, '1'], ['Replace', BLOB, 'aGk=']]);
    const queue = (await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath()}/${pc.id}/commands?limit=100` })).body.data.items;
    assert.deepEqual(queue.slice(2).map((c: { source: object }) => c.source), [{ tokenId: pc.tokenId, policyId: second }, { tokenId: pc.tokenId, policyId: second }]);
    // A refused change (a policy of no one) queues nothing either.
    const bad = await put({ winPolicyAssignments: [{ winPolicyId: 'ffffffffffffffffffffffff', priority: 0 }] });
    assert.deepEqual([bad.status, bad.body.error.code], [404, 3001]);
    assert.equal((await retire(pc.id)).status, 200);
    // A retired PC's token changes reach nothing.
    const third = await policy('Third', [{ locUri: HIDE_SLEEP, format: 'bool', data: 'true' }]);
    assert.equal((await put({ winPolicyAssignments: [{ winPolicyId: third, priority: 0 }] })).status, 200);
    assert.equal(await queuedCount(), 0);
  });

  test('malformed and out-of-session Statuses get a protocol answer, never a 500', async () => {
    const pc = await enrollCapturedPc([{ winPolicyId: await policy('One', [{ locUri: CAMERA, format: 'int', data: '0' }]), priority: 0 }]);
    const first = await session(pc, captured('9'));
    const cmdId = text(commandsOf(first.root)[0]!, 'CmdID')!;
    for (const body of [
      answer('9', '2', '1', [{ cmdRef: cmdId, cmd: 'Replace', code: 200 }]).replace('<Data>200</Data></Status></SyncBody>', '<Data>abc</Data></Status></SyncBody>'),
      answer('9', '2', '1', [{ cmdRef: cmdId, cmd: 'Replace', code: 500, detail: '&#0;bad\u0001' }]).replace('<MsgRef>1</MsgRef><CmdRef>' + cmdId, '<MsgRef>77</MsgRef><CmdRef>' + cmdId),
      answer('8', '2', '1', [{ cmdRef: cmdId, cmd: 'Replace', code: 200 }]).replace('<SessionID>8</SessionID>', '<SessionID>8</SessionID>'),
    ]) {
      const res = await managementSession(ctx, a.org.id, { deviceId: FLEET_DEVICE_ID, pem: pc.pem, body });
      assert.ok(res.statusCode < 500, res.body);
    }
    assert.equal((await retire(pc.id)).status, 200);
  });
});
