import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPlist, parsePlistDict, PlistError } from '../../src/lib/plist.ts';
import { fixture } from '../protocols/apple/apple-fixtures.ts';

describe('XML plists from devices', () => {
  test('reads every check-in fixture, with data as bytes', () => {
    const update = parsePlistDict(fixture('token-update.plist', { topic: 'com.apple.mgmt.External.x', udid: 'U' }));
    assert.equal(update.MessageType, 'TokenUpdate');
    assert.ok(update.Token instanceof Uint8Array && update.Token.length === 32);
    assert.equal(update.AwaitingConfiguration, false);
    for (const name of ['authenticate.plist', 'checkout.plist', 'idle.plist', 'user-authenticate.plist']) assert.ok(parsePlistDict(fixture(name, { udid: 'U' })));
  });

  test('round-trips what it builds', () => {
    const value = { a: 1, b: 'x', c: [true, false], d: { e: 'f' } };
    assert.deepEqual(parsePlistDict(buildPlist(value)), value);
  });

  test('refuses what is not a plain XML plist dictionary, quietly', () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(' '));
    try {
      for (const bad of [
        '',
        '{ a = 1; }',
        'bplist00',
        '<plist><dict><key>a</key></plist>',
        '<plist><array/></plist>',
        '<plist><foo/></plist>',
        '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY e "x">]><plist><dict/></plist>',
        '<plist><dict><key>__proto__</key><dict><key>isAdmin</key><true/></dict></dict></plist>',
        '<plist><dict><key>n</key><integer>abc</integer></dict></plist>',
        '<plist><dict><key>d</key><date>yesterday</date></dict></plist>',
        `<plist>${'<array>'.repeat(40)}${'</array>'.repeat(40)}</plist>`,
      ]) {
        assert.throws(() => parsePlistDict(bad), PlistError, bad);
      }
      assert.throws(() => parsePlistDict(Buffer.from([0x3c, 0x70, 0xff, 0xfe])), /UTF-8/);
    } finally {
      console.error = original;
    }
    assert.deepEqual(errors, [], 'nothing of the input reaches the console');
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });
});
