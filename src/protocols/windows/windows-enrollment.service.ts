import type { Clock } from '../../lib/clock.ts';
import { sha256 } from '../../lib/secrets.ts';
import { DeviceRefused } from '../../devices/device-refused.ts';
import { deviceState } from '../../devices/device-state.ts';
import type { WindowsDeviceRecord, WindowsEnrollmentRequest, WindowsLifecycle } from '../../devices/windows-lifecycle.service.ts';
import type { TokenForDevice } from '../../modules/enrollment-tokens/token-device-access.ts';
import { CertificateRequestRejected, type CertificateAuthority, type IssuedCertificate } from '../../pki/certificate-authority.ts';
import { windowsUrls } from '../../platforms/windows-urls.ts';
import { discoverResponse, parseDiscover } from './discovery.ts';
import { provisioningDocument } from './provisioning-doc.ts';
import { usernameToken, type SoapRequest, type UsernameToken } from './soap.ts';
import { SoapFault } from './soap-faults.ts';
import { parseRequestSecurityToken, requestSecurityTokenResponse, type SecurityTokenRequest } from './wstep.ts';
import { assertGetPolicies, getPoliciesResponse } from './xcep.ts';

/** A device that sent its enrollment but lost the answer may send it again this long after. */
export const ENROLLMENT_RETRY_WINDOW_MS = 15 * 60_000;

const DEVICE_ID_HELD = 'This PC is already enrolled in your organization. Ask your IT team to retire its old record, then enroll again.';
const CODE_USED = 'This enrollment code was already used to enroll another device. Ask your IT team for a new one.';
const WRONG_CREDENTIALS = 'The email or the code is not right. Type your work email, and the code from your enrollment email as the password.';

export interface WindowsEnrollmentDeps {
  /** The devices face: tokens by code, the device rows, the enrollment transaction. */
  devices: WindowsLifecycle;
  clock: Clock;
  certificateAuthority: CertificateAuthority;
  publicUrl: string;
}

/** A refusal of the devices face or the CA, as the fault Windows shows its user. */
function asFault(error: unknown): unknown {
  if (error instanceof DeviceRefused) return new SoapFault('Authorization', error.reason === 'identifier-held' ? DEVICE_ID_HELD : CODE_USED);
  if (error instanceof CertificateRequestRejected) return new SoapFault('CertificateRequest', `The certificate request was refused: ${error.message}.`);
  return error;
}

/**
 * MS-MDE2 enrollment: discovery, policy (MS-XCEP) and certificate enrollment (MS-WSTEP). The
 * user name is the MDM user's email and the password the token's enrollment code; the token is
 * consumed only when a certificate is issued, in the transaction that records the device
 * (src/devices/windows-lifecycle.service.ts). This file decodes and encodes.
 */
export function createWindowsEnrollmentService(deps: WindowsEnrollmentDeps) {
  const { devices, clock, certificateAuthority: ca } = deps;
  const urls = windowsUrls(deps.publicUrl);

  const normalizeCode = (password: string) => password.trim().toUpperCase();

  /** The open Windows token the credentials name; the code alone finds it, the email must match. */
  async function tokenFor(credentials: UsernameToken, now: Date): Promise<TokenForDevice | null> {
    const code = normalizeCode(credentials.password);
    if (!/^[A-Z0-9]{4,64}$/.test(code)) return null;
    const token = await devices.openToken(code, now);
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
    const previous = await devices.enrolledByCodeSince(sha256(normalizeCode(credentials.password)), new Date(now.getTime() - ENROLLMENT_RETRY_WINDOW_MS));
    if (!previous || previous.userEmail !== credentials.username.trim().toLowerCase()) return null;
    const sameDevice = request.hwDevId && previous.hwDevId ? request.hwDevId === previous.hwDevId : request.deviceIdentifier === previous.deviceIdentifier;
    if (!sameDevice || deviceState('windows', previous.state) !== 'enrolled') throw new SoapFault('Authorization', CODE_USED);
    return previous;
  }

  const enrollmentRequest = (request: SecurityTokenRequest): WindowsEnrollmentRequest => ({
    deviceIdentifier: request.deviceIdentifier,
    hwDevId: request.hwDevId ?? null,
    deviceName: request.deviceName ?? null,
    osVersion: request.osVersion ?? null,
    context: request.context,
    publicKeySpkiDer: request.publicKeySpkiDer,
    subjectCommonName: request.deviceIdentifier,
  });

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
      try {
        if (!token) {
          const previous = await retriedEnrollment(credentials, request, now);
          if (!previous) throw new SoapFault('Authentication', WRONG_CREDENTIALS);
          return await answer(soap, previous.organizationId, request, await devices.reissue(previous, enrollmentRequest(request), now));
        }
        const open = usable(token);
        const enrolled = await devices.enroll(open, sha256(normalizeCode(credentials.password)), enrollmentRequest(request), now);
        return await answer(soap, open.organizationId, request, enrolled.certificate);
      } catch (error) {
        throw asFault(error);
      }
    },
  };
}

export type WindowsEnrollmentService = ReturnType<typeof createWindowsEnrollmentService>;
