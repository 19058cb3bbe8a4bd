import type { Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { constraintName, sqlState } from '../../lib/db-errors.ts';
import { newId } from '../../lib/ids.ts';
import { sha256 } from '../../lib/secrets.ts';
import { findTokenByEnrollCode, redeemTokenInTransaction, type TokenForDevice } from '../../modules/enrollment-tokens/token-device-access.ts';
import { CertificateRequestRejected, type CertificateAuthority, type IssuedCertificate } from '../../pki/certificate-authority.ts';
import { discoverResponse, parseDiscover } from './discovery.ts';
import { provisioningDocument } from './provisioning-doc.ts';
import { usernameToken, type SoapRequest, type UsernameToken } from './soap.ts';
import { SoapFault } from './soap-faults.ts';
import { createWindowsDevicesRepo, type WindowsDeviceRecord } from '../../devices/windows-devices.repo.ts';
import { windowsUrls } from '../../platforms/windows-urls.ts';
import { parseRequestSecurityToken, requestSecurityTokenResponse, type SecurityTokenRequest } from './wstep.ts';
import { assertGetPolicies, getPoliciesResponse } from './xcep.ts';

/** A device that sent its enrollment but lost the answer may send it again this long after. */
export const ENROLLMENT_RETRY_WINDOW_MS = 15 * 60_000;

const DEVICE_ID_HELD = 'This PC is already enrolled in your organization. Ask your IT team to retire its old record, then enroll again.';
/** The partial unique index that holds one enrolled device per DeviceID and organization. */
const ENROLLED_IDENTIFIER_INDEX = 'windows_devices_org_identifier_enrolled_idx';

const WRONG_CREDENTIALS = 'The email or the code is not right. Type your work email, and the code from your enrollment email as the password.';

export interface WindowsEnrollmentDeps {
  database: Database;
  clock: Clock;
  certificateAuthority: CertificateAuthority;
  publicUrl: string;
}

/**
 * MS-MDE2 enrollment: discovery, policy (MS-XCEP) and certificate enrollment (MS-WSTEP). The
 * user name is the MDM user's email and the password the token's enrollment code; the token is
 * consumed only when a certificate is issued, in the transaction that records the device.
 */
export function createWindowsEnrollmentService(deps: WindowsEnrollmentDeps) {
  const { database, clock, certificateAuthority: ca } = deps;
  const urls = windowsUrls(deps.publicUrl);

  const normalizeCode = (password: string) => password.trim().toUpperCase();

  /** The open Windows token the credentials name; the code alone finds it, the email must match. */
  async function tokenFor(credentials: UsernameToken, now: Date): Promise<TokenForDevice | null> {
    const code = normalizeCode(credentials.password);
    if (!/^[A-Z0-9]{4,64}$/.test(code)) return null;
    const token = await findTokenByEnrollCode(database.db, code, now);
    if (!token || token.platform !== 'windows' || token.email !== credentials.username.trim().toLowerCase()) return null;
    return token;
  }

  function usable(token: TokenForDevice | null): TokenForDevice {
    if (!token) throw new SoapFault('Authentication', WRONG_CREDENTIALS);
    if (token.state !== 'PENDING') throw new SoapFault('Authorization', 'This enrollment code has expired. Ask your IT team for a new one.');
    return token;
  }

  /** The same PC asking again shortly after (it lost the first answer): same device, fresh certificate. */
  async function retriedEnrollment(credentials: UsernameToken, request: SecurityTokenRequest, now: Date): Promise<WindowsDeviceRecord | null> {
    const previous = await createWindowsDevicesRepo(database.db).findByCodeSince(
      sha256(normalizeCode(credentials.password)),
      new Date(now.getTime() - ENROLLMENT_RETRY_WINDOW_MS),
    );
    if (!previous || previous.userEmail !== credentials.username.trim().toLowerCase()) return null;
    const sameDevice = request.hwDevId && previous.hwDevId ? request.hwDevId === previous.hwDevId : request.deviceIdentifier === previous.deviceIdentifier;
    if (!sameDevice || previous.state !== 'enrolled') {
      throw new SoapFault('Authorization', 'This enrollment code was already used to enroll another device. Ask your IT team for a new one.');
    }
    return previous;
  }

  async function issue(tx: Parameters<Parameters<Database['db']['transaction']>[0]>[0], organizationId: string, deviceId: string, tokenId: string, request: SecurityTokenRequest) {
    try {
      return await ca.issueClientCertificate(tx, organizationId, {
        publicKeySpkiDer: request.publicKeySpkiDer,
        subjectCommonName: request.deviceIdentifier,
        platform: 'windows',
        deviceId,
        tokenId,
      });
    } catch (error) {
      if (error instanceof CertificateRequestRejected) throw new SoapFault('CertificateRequest', `The certificate request was refused: ${error.message}.`);
      throw error;
    }
  }

  /** Two enrollments of one DeviceID at once: the unique index lets one in, the other is refused. */
  async function enrollingOnce<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (sqlState(error) === '23505' && constraintName(error) === ENROLLED_IDENTIFIER_INDEX) throw new SoapFault('Authorization', DEVICE_ID_HELD);
      throw error;
    }
  }

  async function answer(soap: SoapRequest, organizationId: string, request: SecurityTokenRequest, certificate: IssuedCertificate): Promise<string> {
    const authority = await ca.getCa(organizationId);
    const document = provisioningDocument({
      caThumbprint: authority.thumbprint,
      caDer: authority.certificateDer,
      clientThumbprint: certificate.thumbprint,
      clientDer: certificate.certificateDer,
      store: request.enrollmentType === 'Device' ? 'System' : 'User',
      subjectCommonName: request.deviceIdentifier,
      managementUrl: urls.management(organizationId),
      deviceName: request.deviceName,
    });
    return requestSecurityTokenResponse(soap, document);
  }

  return {
    discover(soap: SoapRequest): string {
      return discoverResponse(soap, parseDiscover(soap), urls);
    },

    /** Checks the credentials without consuming the token. */
    async getPolicies(soap: SoapRequest): Promise<string> {
      assertGetPolicies(soap);
      usable(await tokenFor(usernameToken(soap), clock.now()));
      return getPoliciesResponse(soap);
    },

    async enroll(soap: SoapRequest): Promise<string> {
      const credentials = usernameToken(soap);
      const request = await parseRequestSecurityToken(soap);
      const now = clock.now();
      const token = await tokenFor(credentials, now);

      if (!token) {
        const previous = await retriedEnrollment(credentials, request, now);
        if (!previous) throw new SoapFault('Authentication', WRONG_CREDENTIALS);
        const certificate = await database.db.transaction(async (tx) => {
          await ca.revokeDeviceCertificates(tx, previous.organizationId, previous.id);
          const issued = await issue(tx, previous.organizationId, previous.id, previous.tokenId, request);
          await createWindowsDevicesRepo(tx).replaceCertificate(previous.organizationId, previous.id, { serial: issued.serialNumber, thumbprint: issued.thumbprint }, now);
          return issued;
        });
        return answer(soap, previous.organizationId, request, certificate);
      }

      const open = usable(token);
      const organizationId = open.organizationId;
      // A DeviceID an enrolled device holds is refused, the token left PENDING: sessions are
      // the device's certificate's, and two enrolled rows under one DeviceID would be two
      // devices claiming one name (the same PC's retry went through retriedEnrollment above).
      if (await createWindowsDevicesRepo(database.db).findEnrolledByIdentifier(organizationId, request.deviceIdentifier)) throw new SoapFault('Authorization', DEVICE_ID_HELD);
      await ca.getCa(organizationId); // made (and committed) before the enrollment's transaction
      const deviceId = newId();
      const certificate = await enrollingOnce(() => database.db.transaction(async (tx) => {
        const redeemed = await redeemTokenInTransaction(tx, {
          organizationId,
          platform: 'windows',
          tokenId: open.tokenId,
          deviceId,
          now,
          device: { deviceIdentifier: request.deviceIdentifier, hwDevId: request.hwDevId ?? null, deviceName: request.deviceName ?? null, osVersion: request.osVersion ?? null },
        });
        if (!redeemed.ok) throw new SoapFault('Authorization', 'This enrollment code was already used to enroll another device. Ask your IT team for a new one.');
        const issued = await issue(tx, organizationId, deviceId, open.tokenId, request);
        await createWindowsDevicesRepo(tx).insert(organizationId, {
          id: deviceId,
          tokenId: open.tokenId,
          userEmail: open.email,
          enrollCodeHash: sha256(normalizeCode(credentials.password)),
          deviceIdentifier: request.deviceIdentifier,
          hwDevId: request.hwDevId ?? null,
          deviceName: request.deviceName ?? null,
          osVersion: request.osVersion ?? null,
          enrollmentContext: request.context,
          certificateSerial: issued.serialNumber,
          certificateThumbprint: issued.thumbprint,
          devInfo: {},
          state: 'enrolled',
          enrolledAt: now,
          createdAt: now,
          updatedAt: now,
        });
        return issued;
      }));
      return answer(soap, organizationId, request, certificate);
    },
  };
}

export type WindowsEnrollmentService = ReturnType<typeof createWindowsEnrollmentService>;
