import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, requireSecretKey, SECRET_KEY_HINT, type Config } from '../config.ts';

/**
 * The server key: 32 bytes that encrypt secrets at rest (the certificate authorities' private
 * keys) with AES-256-GCM. With PostgreSQL the operator provides it (OPENROLL_SECRET_KEY); on the
 * embedded database it is a file in DATA_DIR, made at first start, so `npm start` needs no setup.
 */
export type SecretKey = Buffer;

export const SECRET_KEY_FILE = 'secret.key';

/** Version byte of the blob layout: 1 = AES-256-GCM, 12-byte IV, 16-byte tag, ciphertext. */
const FORMAT_V1 = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The key the server runs with: OPENROLL_SECRET_KEY when set; otherwise (embedded database) the
 * key file in DATA_DIR, generated with mode 0600 when missing. Throws a ConfigError (one line)
 * when PostgreSQL is configured without a key or the key file is damaged.
 */
export function loadSecretKey(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'secretKey'>): SecretKey {
  requireSecretKey(config);
  if (config.secretKey) return config.secretKey;
  return loadOrCreateKeyFile(config.dataDir);
}

function loadOrCreateKeyFile(dataDir: string): SecretKey {
  const path = join(dataDir, SECRET_KEY_FILE);
  const existing = readKeyFile(path);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  // Written whole under a temporary name, then linked into place: link fails when the file
  // exists, so two processes starting together agree on one key and never read a half-written one.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  const key = readKeyFile(path);
  if (!key) throw new ConfigError(path, 'could not be created');
  return key;
}

function readKeyFile(path: string): SecretKey | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(path, `cannot be read: ${(error as Error).message}`);
  }
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== 32) {
    throw new ConfigError(path, `must hold ${SECRET_KEY_HINT}; restore the original file: the keys it protects cannot be read without it`);
  }
  return key;
}

/**
 * AES-256-GCM with a fresh IV. `aad` binds the blob to where it belongs (e.g. `ca:<orgId>`), so a
 * blob copied to another row or organization fails to decrypt instead of being accepted.
 */
export function encryptSecret(key: SecretKey, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), ciphertext]);
}

export class SecretDecryptionError extends Error {
  constructor() {
    super('A stored secret cannot be decrypted with this server key (was OPENROLL_SECRET_KEY or the key file changed?)');
    this.name = 'SecretDecryptionError';
  }
}

export function decryptSecret(key: SecretKey, blob: Buffer, aad: string): Buffer {
  if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== FORMAT_V1) throw new SecretDecryptionError();
  const iv = blob.subarray(1, 1 + IV_BYTES);
  const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new SecretDecryptionError();
  }
}
