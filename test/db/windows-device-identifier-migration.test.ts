import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { issuedCertificates, windowsDevices } from '../../src/db/schema.ts';
import { newId } from '../../src/lib/ids.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.ts';

/**
 * Migration 0017 on a database where the old code let two enrolled rows share a DeviceID: the
 * newest stays enrolled (the row sessions resolved to), the older are unenrolled with their
 * certificates revoked, and the unique index can then be built. Run here on the statement
 * itself, after taking the index away again.
 */
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db.drop());

const [settle, createIndex] = readFileSync(new URL('../../migrations/0017_windows_device_identifier_enrolled.sql', import.meta.url), 'utf8').split('--> statement-breakpoint');

async function device(organizationId: string, deviceIdentifier: string, createdAt: Date): Promise<string> {
  const id = newId();
  const serial = randomBytes(16).toString('hex');
  await db.database.db.insert(windowsDevices).values({
    organizationId,
    id,
    tokenId: newId(),
    userEmail: `${id}@example.com`,
    enrollCodeHash: randomBytes(32),
    deviceIdentifier,
    certificateSerial: serial,
    certificateThumbprint: randomBytes(20).toString('hex').toUpperCase(),
    state: 'enrolled',
    enrolledAt: createdAt,
    createdAt,
    updatedAt: createdAt,
  });
  await db.database.db.insert(issuedCertificates).values({
    organizationId,
    serialNumber: serial,
    thumbprint: randomBytes(20).toString('hex').toUpperCase(),
    platform: 'windows',
    deviceId: id,
    tokenId: newId(),
    subjectCommonName: deviceIdentifier,
    certificateDer: randomBytes(8),
    notBefore: createdAt,
    notAfter: new Date(createdAt.getTime() + 86_400_000),
    createdAt,
  });
  return id;
}

test('duplicates are settled on the newest row, then the index holds one enrolled device per DeviceID', async () => {
  await db.database.db.execute(sql.raw('DROP INDEX "windows_devices_org_identifier_enrolled_idx"'));
  const org = newId();
  const otherOrg = newId();
  const t = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes));
  const oldest = await device(org, 'PC-1', t(1));
  const middle = await device(org, 'PC-1', t(2));
  const newest = await device(org, 'PC-1', t(3));
  const alone = await device(org, 'PC-2', t(1));
  const elsewhere = await device(otherOrg, 'PC-1', t(0));

  await db.database.db.execute(sql.raw(settle!));
  await db.database.db.execute(sql.raw(createIndex!));

  const rows = await db.database.db.select().from(windowsDevices);
  const certificates = await db.database.db.select().from(issuedCertificates);
  const state = (id: string) => rows.find((r) => r.id === id)!.state;
  const revoked = (id: string) => certificates.find((c) => c.deviceId === id)!.revokedAt !== null;
  assert.deepEqual([oldest, middle, newest, alone, elsewhere].map(state), ['unenrolled', 'unenrolled', 'enrolled', 'enrolled', 'enrolled']);
  assert.deepEqual([oldest, middle, newest, alone, elsewhere].map(revoked), [true, true, false, false, false]);
  await assert.rejects(device(org, 'PC-1', t(4)), 'a second enrolled row under the DeviceID is refused by the index');
});
