import type { Database, Executor } from '../db/client.ts';
import { constraintName, sqlState } from '../lib/db-errors.ts';
import { findTokenBinding, recordQueuedCommands, redeemTokenInTransaction, tokenPolicies, type TokenBinding } from '../modules/enrollment-tokens/token-device-access.ts';
import type { CertificateAuthority } from '../pki/certificate-authority.ts';
import { encryptSecret, type SecretKey } from '../pki/secret-key.ts';
import { createAppleDevicesRepo, ENROLLED_UDID_INDEX, type AppleDeviceRecord } from './apple-devices.repo.ts';
import { deviceState, stateLiteral, type DeviceState } from './device-state.ts';
import { DeviceRefused } from './device-refused.ts';
import { queuedNote, type DeviceCommandRecord } from './commands/device-command.ts';
import type { AppleReport, DeviceCommandsService } from './commands/device-commands.service.ts';
import { applePlanInput } from './commands/apple-profile-plan.ts';
import { planEnrollmentCommands } from './commands/policy-plan.ts';

/** The identity Openroll issued that signed a message: who the message is from. */
export interface DeviceIdentity {
  organizationId: string;
  deviceId: string;
  tokenId: string;
  thumbprint: string;
}

/** What Authenticate tells of the device. */
export interface AppleDeviceFacts {
  serialNumber: string | null;
  model: string | null;
  modelName: string | null;
  productName: string | null;
  osVersion: string | null;
  buildVersion: string | null;
  deviceName: string | null;
}

/** What a DeviceInformation's QueryResponses say of the ENROLLMENT_QUERIES (null: not answered). */
export interface DeviceInformationAnswers {
  deviceName: string | null;
  model: string | null;
  osVersion: string | null;
  serialNumber: string | null;
}

/** Only what the device answered: a query it left out keeps what Authenticate said. */
function definedAnswers(answers: DeviceInformationAnswers): Partial<DeviceInformationAnswers> {
  return Object.fromEntries(Object.entries(answers).filter(([, v]) => v !== null));
}

/** TokenUpdate's push credentials. */
export interface ApplePushCredentials {
  pushToken: Buffer;
  pushMagic: string;
  unlockToken: Buffer | null;
}

export const unlockTokenAad = (organizationId: string, deviceId: string) => `apple-unlock-token:${organizationId}:${deviceId}`;

const UDID_HELD = 'an enrolled device of the organization holds this UDID; retire it (DELETE …/mdm/apple/devices/:id) before it enrolls again';
const UNENROLLED = stateLiteral('apple', 'unenrolled');
const unknownDevice = (detail: string) => new DeviceRefused('unknown-device', detail);

/** Two identities claiming one UDID at once: the partial unique index lets one through. */
async function refuseUdidRace<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (sqlState(error) === '23505' && [undefined, ENROLLED_UDID_INDEX].includes(constraintName(error))) throw new DeviceRefused('identifier-held', UDID_HELD);
    throw error;
  }
}

/**
 * The lifecycle of an Apple device, the face Apple's check-in and MDM channel call, each with
 * the identity that signed the message: Authenticate records the device, TokenUpdate redeems
 * the token (in the transaction that enrolls the device) and keeps the push credentials,
 * CheckOut unenrolls. Refusals are DeviceRefused; a refused message changes nothing.
 */
export function createAppleLifecycle(deps: { database: Database; ca: CertificateAuthority; secretKey: () => SecretKey; commands: DeviceCommandsService }) {
  const devices = () => createAppleDevicesRepo(deps.database.db);

  /**
   * The device of a signed message: the one the signing identity was issued to, which must
   * have authenticated with this UDID and be in one of the `accept`ed states.
   */
  async function deviceOf(identity: DeviceIdentity, udid: string, accept: DeviceState[]): Promise<AppleDeviceRecord> {
    const device = await devices().get(identity.organizationId, identity.deviceId);
    if (!device || device.udid !== udid) throw unknownDevice('no device has authenticated with this UDID and identity; send Authenticate first');
    const state = deviceState('apple', device.state);
    if (!accept.includes(state)) throw unknownDevice(`the device is ${state}`);
    return device;
  }

  /**
   * What the redemption queues, in its transaction: DeviceInformation, then one InstallProfile
   * per winning profile (the token's own, then its policies' by priority), recorded in the
   * token's trail.
   */
  async function queueEnrollmentCommands(tx: Executor, organizationId: string, device: AppleDeviceRecord, now: Date): Promise<void> {
    const [token] = await tokenPolicies(tx, organizationId, 'apple', [device.tokenId]);
    if (!token) return;
    const queued = await deps.commands.enqueue(tx, organizationId, { id: device.id, platform: 'apple' }, planEnrollmentCommands(applePlanInput(token)));
    await recordQueuedCommands(tx, {
      organizationId,
      tokenId: device.tokenId,
      deviceId: device.id,
      at: now,
      commands: queued.map(queuedNote),
    });
  }

  return {
    /** The token an identity was issued for: whether it can still enroll, and which device redeemed it. */
    tokenBinding: (organizationId: string, tokenId: string, now: Date): Promise<TokenBinding | null> => findTokenBinding(deps.database.db, organizationId, tokenId, now),

    async authenticate(identity: DeviceIdentity, message: { udid: string; topic: string; facts: AppleDeviceFacts }, now: Date): Promise<void> {
      const { organizationId, deviceId } = identity;
      const existing = await devices().get(organizationId, deviceId);
      if (existing) {
        // The identity belongs to one device: the same UDID may authenticate again, no other.
        if (existing.udid !== message.udid) throw unknownDevice('this identity was issued to another device');
        if (deviceState('apple', existing.state) === 'unenrolled') throw unknownDevice('the device checked out');
        await devices().update(organizationId, deviceId, { ...message.facts, topic: message.topic, lastSeenAt: now, updatedAt: now });
        return;
      }
      // A new identity. A UDID an enrolled device holds is refused until that device is retired
      // (a wiped device has lost its identity: it is a new one, like a stranger claiming the UDID).
      if (await devices().findEnrolledByUdid(organizationId, message.udid)) throw new DeviceRefused('identifier-held', UDID_HELD);
      await devices().insert(organizationId, {
        id: deviceId,
        tokenId: identity.tokenId,
        state: stateLiteral('apple', 'authenticated'),
        udid: message.udid,
        ...message.facts,
        topic: message.topic,
        certificateThumbprint: identity.thumbprint,
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
    },

    /** The push credentials kept; for a device that only authenticated, the token redeemed and the device enrolled with them. */
    async tokenUpdate(identity: DeviceIdentity, udid: string, push: ApplePushCredentials, now: Date): Promise<void> {
      const { organizationId } = identity;
      const device = await deviceOf(identity, udid, ['authenticated', 'enrolled']);
      await refuseUdidRace(deps.database.db.transaction(async (tx) => {
        const changes: Partial<AppleDeviceRecord> = {
          pushToken: push.pushToken,
          pushMagic: push.pushMagic,
          ...(push.unlockToken ? { unlockTokenEncrypted: encryptSecret(deps.secretKey(), push.unlockToken, unlockTokenAad(organizationId, device.id)) } : {}),
          lastSeenAt: now,
          updatedAt: now,
        };
        if (deviceState('apple', device.state) === 'authenticated') {
          const redeemed = await redeemTokenInTransaction(tx, {
            organizationId,
            platform: 'apple',
            tokenId: device.tokenId,
            deviceId: device.id,
            now,
            device: { udid: device.udid, serialNumber: device.serialNumber, model: device.model, osVersion: device.osVersion },
          });
          if (!redeemed.ok) throw new DeviceRefused('token-closed', `the enrollment token is ${redeemed.state}`);
          Object.assign(changes, { state: stateLiteral('apple', 'enrolled'), enrolledAt: now });
          // Earlier attempts of this hardware that authenticated and never enrolled (a retried
          // installation, another token's) are over: retired, their identities revoked.
          for (const attempt of await createAppleDevicesRepo(tx).supersedeAttempts(organizationId, udid, device.id, now)) {
            await deps.ca.revokeDeviceCertificates(tx, organizationId, attempt);
          }
        }
        // Not if it was superseded, retired or checked out meanwhile: the redeem rolls back with it.
        if (!(await createAppleDevicesRepo(tx).updateLive(organizationId, device.id, changes))) throw unknownDevice('the device is unenrolled');
        if (changes.state !== undefined) await queueEnrollmentCommands(tx, organizationId, device, now);
      }));
    },

    /** The profile is gone from the device, and its identity with it: unenrolled, and nothing may sign as it again. */
    async checkOut(identity: DeviceIdentity, udid: string, now: Date): Promise<void> {
      const device = await deviceOf(identity, udid, ['authenticated', 'enrolled']);
      await deps.database.db.transaction(async (tx) => {
        await createAppleDevicesRepo(tx).update(identity.organizationId, device.id, { state: UNENROLLED, unenrolledAt: now, lastSeenAt: now, updatedAt: now });
        await deps.ca.revokeDeviceCertificates(tx, identity.organizationId, device.id);
        // A checked-out device gets nothing more.
        await deps.commands.clear(tx, identity.organizationId, device.id);
      });
    },

    /**
     * A report at ServerURL from the enrolled device: it completes the command it names, and
     * the answers of a DeviceInformation it acknowledged update the device, in one transaction
     * (a report refused changes nothing, not even lastSeenAt). Then the device's next queued
     * command is taken (sent), or null: a command it said NotNow to is not offered right back.
     */
    async report(identity: DeviceIdentity, udid: string, now: Date, report: AppleReport, answers: DeviceInformationAnswers | null): Promise<DeviceCommandRecord | null> {
      const { organizationId } = identity;
      const device = await deviceOf(identity, udid, ['enrolled']);
      await deps.database.db.transaction(async (tx) => {
        const done = await deps.commands.reportApple(organizationId, device.id, report, tx);
        const learned = done?.type === 'DeviceInformation' && done.status === 'acknowledged' && answers ? definedAnswers(answers) : {};
        const changed = Object.keys(learned).length > 0;
        await createAppleDevicesRepo(tx).update(organizationId, device.id, { ...learned, lastSeenAt: now, ...(changed ? { updatedAt: now } : {}) });
      });
      const [next] = await deps.commands.next(organizationId, device.id, { limit: 1, skipNotNow: report.status === 'NotNow' });
      return next ?? null;
    },
  };
}

export type AppleLifecycle = ReturnType<typeof createAppleLifecycle>;
