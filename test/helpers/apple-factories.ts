import { randomBytes, randomUUID } from 'node:crypto';
import { newId } from '../../src/lib/ids.ts';
import { createAppleDevicesRepo } from '../../src/devices/apple-devices.repo.ts';
import type { OrganizationRecord } from '../../src/modules/organizations/organizations.repo.ts';
import type { TestContext } from './test-app.ts';

/**
 * An Apple device row, inserted directly for the route-table suites (isolation matrix, fuzz);
 * test/protocols/apple/ makes real ones through SCEP and check-in.
 */
export async function createAppleDevice(ctx: TestContext, org: OrganizationRecord, tokenId = newId(), options: { serialNumber?: string } = {}) {
  const now = ctx.clock.now();
  return createAppleDevicesRepo(ctx.container.database.db).insert(org.id, {
    id: newId(),
    tokenId,
    state: 'ENROLLED',
    udid: randomUUID().toUpperCase(),
    serialNumber: options.serialNumber ?? `C02${randomBytes(4).toString('hex').toUpperCase()}`,
    model: 'iPhone14,5',
    modelName: 'iPhone',
    productName: 'iPhone14,5',
    osVersion: '17.5.1',
    buildVersion: '21F90',
    deviceName: 'Test iPhone',
    topic: 'com.apple.mgmt.External.test',
    certificateThumbprint: randomBytes(20).toString('hex').toUpperCase(),
    pushToken: randomBytes(32),
    pushMagic: randomUUID(),
    unlockTokenEncrypted: null,
    authenticatedAt: now,
    enrolledAt: now,
    unenrolledAt: null,
    lastSeenAt: now,
    createdAt: now,
    updatedAt: now,
  });
}
