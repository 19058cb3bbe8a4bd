import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'plist';
import type { DeviceCommandRecord } from '../../../src/devices/commands/device-command.ts';
import { deviceInformationAnswers, encodeCommand, errorChainOf, profileToSign } from '../../../src/protocols/apple/mdm-commands.ts';
import { parsePlistDict, PlistError } from '../../../src/lib/plist.ts';

const row = (over: Partial<DeviceCommandRecord>): DeviceCommandRecord => ({ id: '0123456789abcdef01234567', type: 'DeviceInformation', payload: {}, ...over }) as DeviceCommandRecord;

describe('Apple MDM commands (pure)', () => {
  test('a command is {CommandUUID, Command: {RequestType, ...}}; {"$data": base64} becomes plist data', () => {
    const profile = Buffer.from('<?xml version="1.0"?><plist/>');
    const xml = encodeCommand(row({ type: 'InstallProfile', payload: { Payload: { $data: profile.toString('base64') }, RequestType: 'Spoofed' } }));
    assert.match(xml, /<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1.0\/\/EN"/);
    const parsed = parse(xml) as { CommandUUID: string; Command: { RequestType: string; Payload: Uint8Array } };
    assert.equal(parsed.CommandUUID, '0123456789abcdef01234567');
    assert.equal(parsed.Command.RequestType, 'InstallProfile', 'the stored type wins over a payload key');
    assert.deepEqual(Buffer.from(parsed.Command.Payload), profile);
  });

  test('ErrorChain is kept as JSON; one that is not an array of dictionaries is refused', () => {
    const report = parsePlistDict(
      '<?xml version="1.0"?><plist version="1.0"><dict><key>ErrorChain</key><array><dict><key>ErrorCode</key><integer>4</integer><key>ErrorDomain</key><string>MCProfileErrorDomain</string></dict></array></dict></plist>',
    );
    assert.deepEqual(errorChainOf(report), [{ ErrorCode: 4, ErrorDomain: 'MCProfileErrorDomain' }]);
    assert.equal(errorChainOf({}), null);
    assert.throws(() => errorChainOf({ ErrorChain: ['x'] }), PlistError);
  });

  test('an InstallProfile goes out with the signed Payload, not the stored text', () => {
    const command = row({ type: 'InstallProfile', target: 'com.example.wifi', payload: { mobileconfig: '<plist/>' } });
    assert.equal(profileToSign(command), '<plist/>');
    assert.equal(profileToSign(row({ type: 'DeviceInformation', payload: { Queries: ['DeviceName'] } })), null);
    const parsed = parse(encodeCommand(command, Buffer.from('signed'))) as { Command: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed.Command).sort(), ['Payload', 'RequestType']);
    assert.equal(Buffer.from(parsed.Command.Payload as Uint8Array).toString(), 'signed');
  });

  test("DeviceInformation's QueryResponses: the four queries, absent ones null; not a dictionary refused", () => {
    const answers = deviceInformationAnswers(parsePlistDict('<?xml version="1.0"?><plist version="1.0"><dict><key>QueryResponses</key><dict><key>DeviceName</key><string>Desk</string><key>OSVersion</key><string>17.5</string><key>Model</key><integer>3</integer></dict></dict></plist>'));
    assert.deepEqual(answers, { deviceName: 'Desk', model: null, osVersion: '17.5', serialNumber: null });
    assert.equal(deviceInformationAnswers({}), null);
    assert.throws(() => deviceInformationAnswers({ QueryResponses: ['x'] }), PlistError);
  });
});
