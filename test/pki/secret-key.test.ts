import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { decryptSecret, encryptSecret, loadSecretKey, SECRET_KEY_FILE, SecretDecryptionError } from '../../src/pki/secret-key.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'openroll-key-'));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('server key', () => {
  test('the embedded default generates a 0600 key file at first start and reads it back after', () => {
    const dataDir = join(tempDir(), 'data');
    const first = loadSecretKey(loadConfig({ DATA_DIR: dataDir }));
    assert.equal(first.length, 32);
    const path = join(dataDir, SECRET_KEY_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadSecretKey(loadConfig({ DATA_DIR: dataDir })), first);
    assert.equal(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').length, 32);
  });

  test('a damaged key file stops the start with one line naming it', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, SECRET_KEY_FILE), 'not a key\n');
    assert.throws(() => loadSecretKey(loadConfig({ DATA_DIR: dataDir })), (e: unknown) => e instanceof ConfigError && e.message.includes(SECRET_KEY_FILE) && !e.message.includes('\n'));
  });

  test('OPENROLL_SECRET_KEY is 32 bytes of base64; anything else names the variable', () => {
    const key = randomBytes(32);
    assert.deepEqual(loadConfig({ OPENROLL_SECRET_KEY: key.toString('base64') }).secretKey, key);
    assert.deepEqual(loadConfig({ OPENROLL_SECRET_KEY: key.toString('base64url') }).secretKey, key);
    for (const bad of ['short', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), 'éé', `${key.toString('base64')}!`]) {
      assert.throws(() => loadConfig({ OPENROLL_SECRET_KEY: bad }), (e: unknown) => e instanceof ConfigError && e.message.includes('OPENROLL_SECRET_KEY'), bad);
    }
  });

  test('with DATABASE_URL the key must be given: one line says so; no file is made', () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db.invalid:5432/x', DATA_DIR: dataDir });
    assert.throws(
      () => loadSecretKey(config),
      (e: unknown) => e instanceof ConfigError && /OPENROLL_SECRET_KEY is required with DATABASE_URL/.test(e.message) && !e.message.includes('\n'),
    );
    assert.throws(() => statSync(join(dataDir, SECRET_KEY_FILE)));
    const key = randomBytes(32);
    assert.deepEqual(loadSecretKey(loadConfig({ DATABASE_URL: 'postgres://u:p@db.invalid:5432/x', OPENROLL_SECRET_KEY: key.toString('base64') })), key);
  });
});

describe('encryptSecret / decryptSecret', () => {
  const key = randomBytes(32);
  const plaintext = Buffer.from('-----BEGIN PRIVATE KEY----- pretend');

  test('round-trips, with a fresh IV every time', () => {
    const a = encryptSecret(key, plaintext, 'ca:1');
    const b = encryptSecret(key, plaintext, 'ca:1');
    assert.notDeepEqual(a, b);
    assert.deepEqual(decryptSecret(key, a, 'ca:1'), plaintext);
    assert.equal(a.includes(plaintext), false);
  });

  test('another key, another AAD, a flipped bit or a truncated blob are refused', () => {
    const blob = encryptSecret(key, plaintext, 'ca:1');
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 1]! ^= 1;
    for (const [k, b, aad] of [
      [randomBytes(32), blob, 'ca:1'],
      [key, blob, 'ca:2'],
      [key, flipped, 'ca:1'],
      [key, blob.subarray(0, 20), 'ca:1'],
    ] as const) {
      assert.throws(() => decryptSecret(k, b, aad), SecretDecryptionError);
    }
  });
});
