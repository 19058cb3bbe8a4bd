import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changedCommands, planEnrollmentCommands } from '../../../src/devices/commands/policy-plan.ts';

const TOKEN = '0123456789abcdef01234567';
const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbb';

describe('policy plan (pure)', () => {
  test('Windows: nothing to plan without settings', () => {
    assert.deepEqual(planEnrollmentCommands({ platform: 'windows', tokenId: TOKEN, assignments: [] }), []);
    assert.deepEqual(planEnrollmentCommands({ platform: 'windows', tokenId: TOKEN, assignments: [{ policyId: P1, priority: 0, items: [] }] }), []);
  });

  test('Windows: a change of assignments sends the changed and added winners, not one that moved with the same value', () => {
    const plan = (assignments: { policyId: string; priority: number; items: { locUri: string; format: string; data: string; verb?: 'Add' }[] }[]) => planEnrollmentCommands({ platform: 'windows', tokenId: TOKEN, assignments });
    const before = plan([{ policyId: P1, priority: 5, items: [{ locUri: './Device/A', format: 'int', data: '0' }, { locUri: './Device/B', format: 'chr', data: 'b' }, { locUri: './Device/C', format: 'int', data: '1' }] }]);
    const after = plan([
      { policyId: P1, priority: 5, items: [{ locUri: './Device/A', format: 'int', data: '0' }, { locUri: './Device/B', format: 'chr', data: 'b' }, { locUri: './Device/C', format: 'int', data: '1' }] },
      { policyId: P2, priority: 1, items: [{ locUri: './Device/B', format: 'chr', data: 'b' }, { locUri: './Device/C', format: 'int', data: '2' }, { locUri: './Device/A', format: 'int', data: '0', verb: 'Add' }, { locUri: './Device/D', format: 'chr', data: 'd' }] },
    ]);
    assert.deepEqual(changedCommands(before, after).map((c) => [c.type, c.target, (c.payload as { data: string }).data, c.source?.policyId]), [
      ['Replace', './Device/C', '2', P2],
      ['Add', './Device/A', '0', P2],
      ['Replace', './Device/D', 'd', P2],
    ]);
    assert.deepEqual(changedCommands(after, after), []);
    assert.deepEqual(changedCommands(after, before).map((c) => c.target), ['./Device/A', './Device/C'], 'back to the first policy’s values; nothing for the dropped D');
  });

  test('Windows: one command per LocURI, the lower priority number wins, verbs and order kept', () => {
    const camera = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
    const plan = planEnrollmentCommands({
      platform: 'windows',
      tokenId: TOKEN,
      assignments: [
        { policyId: P2, priority: 5, items: [{ locUri: camera, format: 'int', data: '1' }, { locUri: './Vendor/MSFT/X', format: 'chr', data: 'x', verb: 'Add' }] },
        { policyId: P1, priority: 1, items: [{ locUri: camera, format: 'int', data: '0' }] },
      ],
    });
    assert.deepEqual(plan, [
      { type: 'Replace', target: camera, payload: { format: 'int', data: '0' }, source: { tokenId: TOKEN, policyId: P1 } },
      { type: 'Add', target: './Vendor/MSFT/X', payload: { format: 'chr', data: 'x' }, source: { tokenId: TOKEN, policyId: P2 } },
    ]);
  });

  test('Apple: DeviceInformation first, then the token’s own profiles, then the policies’ by priority, one per PayloadIdentifier', () => {
    const profile = (id: string, text: string) => ({ payloadIdentifier: id, mobileconfig: text });
    const plan = planEnrollmentCommands({
      platform: 'apple',
      tokenId: TOKEN,
      tokenProfiles: [profile('com.example.wifi', 'own')],
      assignments: [
        { policyId: P2, priority: 9, items: [profile('com.example.vpn', 'p2'), profile('com.example.mail', 'p2')] },
        { policyId: P1, priority: 0, items: [profile('com.example.wifi', 'p1'), profile('com.example.vpn', 'p1')] },
      ],
    });
    assert.deepEqual(
      plan.map((c) => [c.type, c.target, c.source?.policyId ?? null]),
      [
        ['DeviceInformation', null, null],
        ['InstallProfile', 'com.example.wifi', null],
        ['InstallProfile', 'com.example.vpn', P1],
        ['InstallProfile', 'com.example.mail', P2],
      ],
    );
    assert.deepEqual(plan[0]!.payload, { Queries: ['DeviceName', 'Model', 'OSVersion', 'SerialNumber'] });
    assert.deepEqual(plan[1]!.payload, { mobileconfig: 'own' });
  });
});
