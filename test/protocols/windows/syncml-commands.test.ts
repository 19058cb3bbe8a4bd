import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Element } from '@xmldom/xmldom';
import type { DeviceCommandRecord } from '../../../src/devices/commands/device-command.ts';
import { encodeCommands, firstCommandId } from '../../../src/protocols/windows/syncml-commands.ts';
import { parseSyncml, syncmlResponse } from '../../../src/protocols/windows/syncml.ts';
import { all, parse, syncmlBody, text } from '../../helpers/windows-device.ts';

const row = (over: Partial<DeviceCommandRecord>): DeviceCommandRecord =>
  ({ organizationId: 'o', id: 'i', deviceId: 'd', seq: 1, platform: 'windows', type: 'Replace', target: null, payload: {}, status: 'sent', cmdId: '1', ...over }) as DeviceCommandRecord;

describe('OMA-DM commands (pure)', () => {
  test("the device's Statuses are read from its message; one without a three-digit code is no answer", () => {
    const body = syncmlBody('syncml-first-session.xml', 'D').replace(
      '<Final />',
      '<Status><CmdID>9</CmdID><MsgRef>1</MsgRef><CmdRef>5</CmdRef><Cmd>Replace</Cmd><Data>405</Data></Status><Status><CmdID>10</CmdID><MsgRef>1</MsgRef><CmdRef>6</CmdRef><Data>OK</Data></Status><Final />',
    );
    const message = parseSyncml(body);
    assert.deepEqual(message.statuses, [{ msgRef: '1', cmdRef: '5', code: 405, cmd: 'Replace' }]);
    assert.equal(message.commands.length, 3, 'Statuses are not commands: they get no Status back');
  });

  test('commands follow the Statuses, numbered on from them, each with Target, Meta in syncml:metinf and escaped Data', () => {
    const message = parseSyncml(syncmlBody('syncml-first-session.xml', 'D'));
    const first = firstCommandId(message.commands.length);
    const xml = syncmlResponse(
      message,
      'https://mdm.example.test/x',
      encodeCommands([
        row({ type: 'Replace', target: './Vendor/MSFT/A', payload: { format: 'chr', type: 'text/plain', data: '</Data><Exec>' }, cmdId: String(first) }),
        row({ type: 'Get', target: './DevDetail/SwV', cmdId: String(first + 1) }),
      ]),
    );
    const root = parse(xml);
    assert.deepEqual(all(root, 'CmdID').map((e) => e.textContent), ['1', '2', '3', '4', '5', '6']);
    const [replace] = all(root, 'Replace');
    assert.equal(text(replace!, 'Data'), '</Data><Exec>');
    assert.equal(all(root, 'Exec').length, 0, 'data cannot become a command');
    assert.deepEqual(all(replace!, 'Type').map((e) => [e.namespaceURI, e.textContent]), [['syncml:metinf', 'text/plain']]);
    const [get] = all(root, 'Get');
    assert.deepEqual([all(get!, 'Meta').length, all(get!, 'Data').length, text(get!, 'LocURI')], [0, 0, './DevDetail/SwV']);
    assert.equal(all(root, 'SyncBody')[0]!.lastChild && (all(root, 'SyncBody')[0]!.lastChild as Element).localName, 'Final');
  });
});
