import type { Database, Executor } from '../db/client.ts';
import { constraintName, sqlState } from '../lib/db-errors.ts';
import { newId } from '../lib/ids.ts';
import { assignedPoliciesInTransaction, findTokenByEnrollCode, recordQueuedCommands, redeemTokenInTransaction, type TokenForDevice } from '../modules/enrollment-tokens/token-device-access.ts';
import { planEnrollmentCommands, windowsAssignments } from './commands/policy-plan.ts';
import type { CertificateAuthority, IssuedCertificate } from '../pki/certificate-authority.ts';
import { stateLiteral } from './device-state.ts';
import { DeviceRefused } from './device-refused.ts';
import { createWindowsDevicesRepo, type WindowsDeviceRecord } from './windows-devices.repo.ts';
import type { DeviceCommandsService } from './commands/device-commands.service.ts';
import { queuedNote } from './commands/device-command.ts';

/**
 * Enroll a Windows device -> its row -> its first session, in files:
 * protocols/windows/windows.routes.ts (the SOAP endpoint) -> windows-enrollment.service.ts
 * (decode the WS-Trust request, encode the provisioning document) -> this file `enroll()`
 * (redeem the token, issue the certificate and insert the row, in one transaction) ->
 * modules/enrollment-tokens/token-device-access.ts (the redeem) -> windows-devices.repo.ts ->
 * db/schema.ts `windowsDevices`; then windows-management.service.ts (the OMA-DM session: the
 * device found by its certificate) -> this file `recordSession()`. See src/devices/README.md.
 */

export type { WindowsDeviceRecord };

/** The partial unique index that holds one enrolled device per DeviceID and organization. */
const ENROLLED_IDENTIFIER_INDEX = 'windows_devices_org_identifier_enrolled_idx';

const IDENTIFIER_HELD = 'an enrolled device of the organization holds this DeviceID';

/** What a Windows enrollment request says of the device, decoded by the protocol. */
export interface WindowsEnrollmentRequest {
  deviceIdentifier: string;
  hwDevId: string | null;
  deviceName: string | null;
  osVersion: string | null;
  context: Record<string, string>;
  /** The device's key and the name its certificate carries. */
  publicKeySpkiDer: Buffer;
  subjectCommonName: string;
}

export interface WindowsEnrollment {
  device: WindowsDeviceRecord;
  certificate: IssuedCertificate;
}

/**
 * The lifecycle of a Windows device, the face the Windows protocol calls: enroll (inside the
 * token's redemption transaction), a retried enrollment's new certificate, a management
 * session's record, the device's own unenrollment. Refusals are DeviceRefused; a certificate
 * request the CA refuses is its CertificateRequestRejected; either leaves nothing written.
 */
export function createWindowsLifecycle(deps: { database: Database; certificateAuthority: CertificateAuthority; commands: DeviceCommandsService }) {
  const { database, certificateAuthority: ca, commands } = deps;
  const repo = (db: Executor = database.db) => createWindowsDevicesRepo(db);

  const issue = (tx: Executor, organizationId: string, deviceId: string, tokenId: string, request: WindowsEnrollmentRequest) =>
    ca.issueClientCertificate(tx, organizationId, { publicKeySpkiDer: request.publicKeySpkiDer, subjectCommonName: request.subjectCommonName, platform: 'windows', deviceId, tokenId });

  /**
   * The winning settings of the token's policies, queued for the new device in the
   * redemption's transaction (CONTRACT.md section 6), and the trail's note of what was queued.
   */
  async function queuePolicyCommands(tx: Executor, organizationId: string, tokenId: string, deviceId: string, now: Date): Promise<void> {
    const assignments = windowsAssignments(await assignedPoliciesInTransaction(tx, organizationId, tokenId));
    const planned = planEnrollmentCommands({ platform: 'windows', tokenId, assignments });
    if (planned.length === 0) return;
    const queued = await commands.enqueue(tx, organizationId, { id: deviceId, platform: 'windows' }, planned);
    await recordQueuedCommands(tx, { organizationId, tokenId, deviceId, at: now, commands: queued.map(queuedNote) });
  }

  return {
    /** The open token holding an enrollment code (the code is the credential: any organization). */
    openToken: (enrollCode: string, now: Date): Promise<TokenForDevice | null> => findTokenByEnrollCode(database.db, enrollCode, now),

    /** The device a code enrolled since `since`, for the same PC's retry (the code names the organization). */
    enrolledByCodeSince: (enrollCodeHash: Buffer, since: Date) => repo().findByCodeSince(enrollCodeHash, since),

    /** The enrolled device holding a DeviceID, if any: a session without a certificate is taken as it only in trials. */
    enrolledByIdentifier: (organizationId: string, deviceIdentifier: string) => repo().findEnrolledByIdentifier(organizationId, deviceIdentifier),

    device: (organizationId: string, id: string) => repo().get(organizationId, id),

    /**
     * A new device: the token redeemed by it, its certificate issued and its row inserted, in
     * one transaction, so a refusal leaves the token PENDING. A DeviceID an enrolled device
     * holds is refused (two rows under one DeviceID would be two devices claiming one name),
     * before and, for two enrollments at once, by the unique index.
     */
    async enroll(token: TokenForDevice, enrollCodeHash: Buffer, request: WindowsEnrollmentRequest, now: Date): Promise<WindowsEnrollment> {
      const organizationId = token.organizationId;
      if (await repo().findEnrolledByIdentifier(organizationId, request.deviceIdentifier)) throw new DeviceRefused('identifier-held', IDENTIFIER_HELD);
      await ca.getCa(organizationId); // made (and committed) before the enrollment's transaction
      const deviceId = newId();
      try {
        return await database.db.transaction(async (tx) => {
          const redeemed = await redeemTokenInTransaction(tx, {
            organizationId,
            platform: 'windows',
            tokenId: token.tokenId,
            deviceId,
            now,
            device: { deviceIdentifier: request.deviceIdentifier, hwDevId: request.hwDevId, deviceName: request.deviceName, osVersion: request.osVersion },
          });
          if (!redeemed.ok) throw new DeviceRefused('token-used', `the enrollment token is ${redeemed.state}`);
          const certificate = await issue(tx, organizationId, deviceId, token.tokenId, request);
          const device = await repo(tx).insert(organizationId, {
            id: deviceId,
            tokenId: token.tokenId,
            userEmail: token.email,
            enrollCodeHash,
            deviceIdentifier: request.deviceIdentifier,
            hwDevId: request.hwDevId,
            deviceName: request.deviceName,
            osVersion: request.osVersion,
            enrollmentContext: request.context,
            certificateSerial: certificate.serialNumber,
            certificateThumbprint: certificate.thumbprint,
            devInfo: {},
            state: stateLiteral('windows', 'enrolled'),
            enrolledAt: now,
            createdAt: now,
            updatedAt: now,
          });
          await queuePolicyCommands(tx, organizationId, token.tokenId, device.id, now);
          return { device, certificate };
        });
      } catch (error) {
        if (sqlState(error) === '23505' && constraintName(error) === ENROLLED_IDENTIFIER_INDEX) throw new DeviceRefused('identifier-held', IDENTIFIER_HELD);
        throw error;
      }
    },

    /** The same PC enrolling again (it lost the answer): its old certificates revoked, a new one issued and recorded. */
    async reissue(previous: WindowsDeviceRecord, request: WindowsEnrollmentRequest, now: Date): Promise<IssuedCertificate> {
      return database.db.transaction(async (tx) => {
        await ca.revokeDeviceCertificates(tx, previous.organizationId, previous.id);
        const issued = await issue(tx, previous.organizationId, previous.id, previous.tokenId, request);
        await repo(tx).replaceCertificate(previous.organizationId, previous.id, { serial: issued.serialNumber, thumbprint: issued.thumbprint }, now);
        return issued;
      });
    },

    /** A management session: what the device reported, and when it was seen. */
    recordSession: (organizationId: string, id: string, devInfo: Record<string, string>, now: Date) => repo().recordSession(organizationId, id, devInfo, now),

    /** The device unenrolled itself (Alert 1226): recorded, unenrolled and its certificates revoked, together. */
    async unenroll(organizationId: string, id: string, devInfo: Record<string, string>, now: Date): Promise<void> {
      await database.db.transaction(async (tx) => {
        const devices = repo(tx);
        await devices.recordSession(organizationId, id, devInfo, now);
        await devices.markUnenrolled(organizationId, id, now);
        await ca.revokeDeviceCertificates(tx, organizationId, id);
        // An unenrolled device gets nothing more.
        await commands.clear(tx, organizationId, id);
      });
    },
  };
}

export type WindowsLifecycle = ReturnType<typeof createWindowsLifecycle>;
