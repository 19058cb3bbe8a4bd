import type { Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { isId } from '../../lib/ids.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { forwardedCertificateThumbprint } from './client-certificate.ts';
import { SoapFault } from './soap-faults.ts';
import { devInfoOf, isUnenrollment, parseSyncml, syncmlResponse } from './syncml.ts';
import { createWindowsDevicesRepo } from './windows-devices.repo.ts';
import { windowsUrls } from './windows-urls.ts';

export interface WindowsManagementDeps {
  database: Database;
  clock: Clock;
  certificateAuthority: CertificateAuthority;
  publicUrl: string;
  /**
   * The header in which the TLS-terminating proxy forwards the client certificate. Set: every
   * session must carry the certificate Openroll issued to the device. Unset: the DeviceID of an
   * enrolled device is enough (plain HTTP, for trials and tests).
   */
  clientCertHeader: string | undefined;
}

/** OMA-DM sessions at the ADDR of the provisioning document: the first session and unenrollment. */
export function createWindowsManagementService(deps: WindowsManagementDeps) {
  const { database, clock, certificateAuthority: ca } = deps;
  const urls = windowsUrls(deps.publicUrl);

  async function requireCertificate(organizationId: string, device: { id: string; certificateThumbprint: string }, header: string | string[] | undefined) {
    const thumbprint = forwardedCertificateThumbprint(header);
    if (!thumbprint) throw new SoapFault('InvalidSecurity', 'The session carries no client certificate.');
    const issued = await ca.findIssuedCertificate(organizationId, { thumbprint });
    const now = clock.now();
    if (!issued || issued.deviceId !== device.id || thumbprint !== device.certificateThumbprint || issued.revokedAt || issued.notAfter <= now || issued.notBefore > now) {
      throw new SoapFault('InvalidSecurity', "The client certificate is not this device's.");
    }
  }

  return {
    async session(organizationId: string, body: string, headers: Record<string, string | string[] | undefined>): Promise<string> {
      const message = parseSyncml(body);
      if (!isId(organizationId)) throw new SoapFault('Authentication', 'This device is not enrolled here.');
      const orgId = organizationId.toLowerCase();
      const repo = createWindowsDevicesRepo(database.db);
      const device = await repo.findByIdentifier(orgId, message.source);
      if (!device) throw new SoapFault('Authentication', 'This device is not enrolled here.');
      if (deps.clientCertHeader) await requireCertificate(orgId, device, headers[deps.clientCertHeader]);
      if (device.state !== 'enrolled') throw new SoapFault('Authorization', 'This device is no longer managed; enroll it again.');

      const now = clock.now();
      const devInfo = { ...device.devInfo, ...devInfoOf(message) };
      if (isUnenrollment(message)) {
        await database.db.transaction(async (tx) => {
          const devices = createWindowsDevicesRepo(tx);
          await devices.recordSession(orgId, device.id, devInfo, now);
          await devices.markUnenrolled(orgId, device.id, now);
          await ca.revokeDeviceCertificates(tx, orgId, device.id);
        });
      } else {
        await repo.recordSession(orgId, device.id, devInfo, now);
      }
      return syncmlResponse(message, urls.management(orgId));
    },
  };
}

export type WindowsManagementService = ReturnType<typeof createWindowsManagementService>;
