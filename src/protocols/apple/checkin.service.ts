import type { Database } from '../../db/client.ts';
import { AppError, validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { constraintName, sqlState } from '../../lib/db-errors.ts';
import { createAppleDevicesRepo, ENROLLED_UDID_INDEX, type AppleDeviceRecord } from '../../devices/apple-devices.repo.ts';
import type { PushCertificateService } from '../../modules/apple-push-certificate/push-certificate.service.ts';
import { redeemTokenInTransaction } from '../../modules/enrollment-tokens/token-device-access.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { encryptSecret, type SecretKey } from '../../pki/secret-key.ts';
import { deviceOf, field, readMessage, unknownDevice } from './device-message.ts';
import { authenticateMessage, type MessageSigner } from './message-signature.ts';
import { dataField, optionalStringField, stringField, type PlistDict } from './plist.ts';

/** What a check-in answers: 200 with an empty body, or 410 to decline (Apple's documented refusal). */
export type CheckInResult = { status: 200 | 410 };

function udidTaken(): AppError {
  return new AppError('CONFLICT', {
    data: { errors: [{ path: 'body.UDID', message: 'an enrolled device of the organization holds this UDID; retire it (DELETE …/mdm/apple/devices/:id) before it enrolls again' }] },
  });
}

/** Two identities claiming one UDID at once: the partial unique index lets one through. */
async function refuseUdidRace<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (sqlState(error) === '23505' && [undefined, ENROLLED_UDID_INDEX].includes(constraintName(error))) throw udidTaken();
    throw error;
  }
}

export const unlockTokenAad = (organizationId: string, deviceId: string) => `apple-unlock-token:${organizationId}:${deviceId}`;

/**
 * Check-in (Apple Device Management, "Check-in"): Authenticate records the device, TokenUpdate
 * redeems the token and keeps the push credentials, CheckOut unenrolls. Every message is signed
 * by the identity SCEP issued; a rejected message changes nothing.
 */
export function createCheckInService(deps: { database: Database; clock: Clock; ca: CertificateAuthority; secretKey: () => SecretKey; pushCertificates: PushCertificateService }) {
  const devices = () => createAppleDevicesRepo(deps.database.db);

  async function checkTopic(organizationId: string, message: PlistDict): Promise<string> {
    const topic = field(() => stringField(message, 'Topic'));
    const expected = await deps.pushCertificates.topicOf(organizationId);
    if (topic !== expected) throw validationError([{ path: 'body.Topic', message: 'is not the topic of the organization’s push certificate' }]);
    return topic;
  }

  async function authenticate(signer: MessageSigner, message: PlistDict): Promise<CheckInResult> {
    const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
    const topic = await checkTopic(signer.organizationId, message);
    const facts = field(() => ({
      serialNumber: optionalStringField(message, 'SerialNumber', { maxLength: 64 }),
      model: optionalStringField(message, 'Model', { maxLength: 128 }),
      modelName: optionalStringField(message, 'ModelName', { maxLength: 128 }),
      productName: optionalStringField(message, 'ProductName', { maxLength: 128 }),
      osVersion: optionalStringField(message, 'OSVersion', { maxLength: 64 }),
      buildVersion: optionalStringField(message, 'BuildVersion', { maxLength: 64 }),
      deviceName: optionalStringField(message, 'DeviceName', { maxLength: 256 }),
    }));
    const now = deps.clock.now();
    const existing = await devices().get(signer.organizationId, signer.deviceId);
    if (existing) {
      // The identity belongs to one device: the same UDID may authenticate again, no other.
      if (existing.udid !== udid) throw unknownDevice('this identity was issued to another device');
      if (existing.state === 'UNENROLLED') throw unknownDevice('the device checked out');
      await devices().update(signer.organizationId, signer.deviceId, { ...facts, topic, lastSeenAt: now, updatedAt: now });
      return { status: 200 };
    }
    // A new identity. A UDID an enrolled device holds is refused until that device is retired
    // (a wiped device has lost its identity: it is a new one, like a stranger claiming the UDID).
    if (await devices().findEnrolledByUdid(signer.organizationId, udid)) throw udidTaken();
    await devices().insert(signer.organizationId, {
      id: signer.deviceId,
      tokenId: signer.tokenId,
      state: 'AUTHENTICATED',
      udid,
      ...facts,
      topic,
      certificateThumbprint: signer.thumbprint,
      pushToken: null,
      pushMagic: null,
      unlockTokenEncrypted: null,
      authenticatedAt: now,
      enrolledAt: null,
      unenrolledAt: null,
      lastSeenAt: now,
      createdAt: now,
      updatedAt: now,
    });
    return { status: 200 };
  }

  async function tokenUpdate(signer: MessageSigner, message: PlistDict): Promise<CheckInResult> {
    const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
    // The user channel (UserID / UserLongName) is not served: its TokenUpdate changes nothing.
    if (message.UserID !== undefined || message.UserLongName !== undefined) return { status: 200 };
    await checkTopic(signer.organizationId, message);
    const push = field(() => ({
      pushToken: dataField(message, 'Token', { required: true, maxBytes: 256 })!,
      pushMagic: stringField(message, 'PushMagic', { maxLength: 256 }),
      unlockToken: dataField(message, 'UnlockToken', { required: false, maxBytes: 8192 }),
    }));
    const device = await deviceOf(deps.database, signer, udid, ['AUTHENTICATED', 'ENROLLED']);
    const now = deps.clock.now();
    await refuseUdidRace(deps.database.db.transaction(async (tx) => {
      const changes: Partial<AppleDeviceRecord> = {
        pushToken: push.pushToken,
        pushMagic: push.pushMagic,
        ...(push.unlockToken ? { unlockTokenEncrypted: encryptSecret(deps.secretKey(), push.unlockToken, unlockTokenAad(signer.organizationId, device.id)) } : {}),
        lastSeenAt: now,
        updatedAt: now,
      };
      if (device.state === 'AUTHENTICATED') {
        const redeemed = await redeemTokenInTransaction(tx, {
          organizationId: signer.organizationId,
          platform: 'apple',
          tokenId: device.tokenId,
          deviceId: device.id,
          now,
          device: { udid: device.udid, serialNumber: device.serialNumber, model: device.model, osVersion: device.osVersion },
        });
        if (!redeemed.ok) throw new AppError('TOKEN_NOT_PENDING', { data: { errors: [{ path: 'token', message: `the enrollment token is ${redeemed.state}` }] } });
        Object.assign(changes, { state: 'ENROLLED', enrolledAt: now });
        // Earlier attempts of this hardware that authenticated and never enrolled (a retried
        // installation, another token's) are over: retired, their identities revoked.
        for (const attempt of await createAppleDevicesRepo(tx).supersedeAttempts(signer.organizationId, udid, device.id, now)) {
          await deps.ca.revokeDeviceCertificates(tx, signer.organizationId, attempt);
        }
      }
      // Not if it was superseded, retired or checked out meanwhile: the redeem rolls back with it.
      if (!(await createAppleDevicesRepo(tx).updateLive(signer.organizationId, device.id, changes))) throw unknownDevice('the device is unenrolled');
    }));
    return { status: 200 };
  }

  async function checkOut(signer: MessageSigner, message: PlistDict): Promise<CheckInResult> {
    const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
    const device = await deviceOf(deps.database, signer, udid, ['AUTHENTICATED', 'ENROLLED']);
    const now = deps.clock.now();
    await deps.database.db.transaction(async (tx) => {
      await createAppleDevicesRepo(tx).update(signer.organizationId, device.id, { state: 'UNENROLLED', unenrolledAt: now, lastSeenAt: now, updatedAt: now });
      // The profile is gone from the device, and its identity with it: nothing may sign as it again.
      await deps.ca.revokeDeviceCertificates(tx, signer.organizationId, device.id);
    });
    return { status: 200 };
  }

  return {
    async checkIn(organizationId: string, signature: string | string[] | undefined, body: Buffer): Promise<CheckInResult> {
      const signer = await authenticateMessage(deps, organizationId, signature, body);
      const message = readMessage(body);
      const type = field(() => stringField(message, 'MessageType', { maxLength: 64 }));
      switch (type) {
        case 'Authenticate':
          return authenticate(signer, message);
        case 'TokenUpdate':
          return tokenUpdate(signer, message);
        case 'CheckOut':
          return checkOut(signer, message);
        case 'UserAuthenticate':
          // Apple: answering 410 tells the device the server does not use the user channel.
          return { status: 410 };
        default:
          throw validationError([{ path: 'body.MessageType', message: `${type} is not supported (Authenticate, TokenUpdate, CheckOut)` }]);
      }
    },
  };
}

export type CheckInService = ReturnType<typeof createCheckInService>;
