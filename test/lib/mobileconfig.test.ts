/**
 * lib/mobileconfig.ts, pure: a profile in Apple Configurator's layout (test/fixtures/apple/README.md,
 * `profiles/`) reads with its PayloadIdentifier; each item's failure is named by its place.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { mobileconfigErrors, readMobileconfig } from '../../src/lib/mobileconfig.ts';
import { PlistError } from '../../src/lib/plist.ts';

const WIFI = readFileSync(new URL('../fixtures/apple/profiles/wifi.mobileconfig', import.meta.url), 'utf8');

describe('configuration profiles', () => {
  test('a profile as Apple Configurator saves it reads, with its PayloadIdentifier', () => {
    assert.deepEqual(readMobileconfig(WIFI), { payloadIdentifier: 'Admins-MacBook-Pro.E4A3B1C2-6D7E-4F80-9A1B-2C3D4E5F6071' });
  });

  test('a payload that is not a dictionary, or a blank identifier, is refused', () => {
    assert.throws(() => readMobileconfig(WIFI.replace('<array>\n\t\t<dict>', '<array>\n\t\t<string>x</string>\n\t\t<dict>')), PlistError);
    assert.throws(() => readMobileconfig(WIFI.replace('<string>Admins-MacBook-Pro.E4A3B1C2-6D7E-4F80-9A1B-2C3D4E5F6071</string>', '<string> </string>')), PlistError);
  });

  test('items without mobileconfig pass as given; each bad one is named by its index', () => {
    const errors = mobileconfigErrors([{ name: 'x' }, { mobileconfig: WIFI }, { mobileconfig: null }, { mobileconfig: '<plist version="1.0"><dict/></plist>' }], 'body.profiles');
    assert.deepEqual(errors.map((e) => e.path), ['body.profiles.2.mobileconfig', 'body.profiles.3.mobileconfig']);
    assert.deepEqual(mobileconfigErrors(undefined, 'body.profiles'), []);
  });
});
