import type { Clock } from '../../lib/clock.ts';
import { isId } from '../../lib/ids.ts';
import { deviceState } from '../../devices/device-state.ts';
import type { WindowsDeviceRecord, WindowsLifecycle } from '../../devices/windows-lifecycle.service.ts';
import { thumbprintOf, type CertificateAuthority } from '../../pki/certificate-authority.ts';
import { windowsUrls } from '../../platforms/windows-urls.ts';
import type { PresentedCertificate } from './client-certificate.ts';
import { SoapFault } from './soap-faults.ts';
import type { DeviceCommandsService } from '../../devices/commands/device-commands.service.ts';
import { DEFAULT_MAX_MSG_SIZE, encodeCommand, encodeCommands, firstCommandId, WINDOWS_COMMANDS_PER_MESSAGE } from './syncml-commands.ts';
import type { DeviceCommandRecord } from '../../devices/commands/device-command.ts';
import { devInfoOf, isUnenrollment, keptDevInfo, parseSyncml, syncmlResponse } from './syncml.ts';

export interface WindowsManagementDeps {
  /** The devices face: the device rows, the session's record, the device's own unenrollment. */
  devices: WindowsLifecycle;
  clock: Clock;
  certificateAuthority: CertificateAuthority;
  publicUrl: string;
  /**
   * MDM_ALLOW_UNVERIFIED_SESSIONS: a session without a certificate is taken as the enrolled
   * device its DeviceID names (trials only). Off, such a session is refused.
   */
  allowUnverified: boolean;
  /** Command queue (issue 23): what the session hands out and what the device answered. */
  commands: DeviceCommandsService;
}

const notEnrolledHere = () => new SoapFault('Authentication', 'This device is not enrolled here.');
const notThisDevice = () => new SoapFault('InvalidSecurity', "The client certificate is not this device's.");
const noLongerManaged = () => new SoapFault('Authorization', 'This device is no longer managed; enroll it again.');

/** A session's device, and whether its certificate proved it (only then may it unenroll). */
interface SessionDevice {
  device: WindowsDeviceRecord;
  verified: boolean;
}

const isEnrolled = (device: WindowsDeviceRecord) => deviceState('windows', device.state) === 'enrolled';

/** OMA-DM sessions at the ADDR of the provisioning document: the first session and unenrollment. */
export function createWindowsManagementService(deps: WindowsManagementDeps) {
  const { devices, clock, certificateAuthority: ca } = deps;
  const urls = windowsUrls(deps.publicUrl);

  /**
   * The device the certificate was issued to, found by the certificate (never by what the
   * message says): exactly a certificate of this organization's register, for a Windows device,
   * unrevoked and valid, and the message's DeviceID must be that device's.
   */
  async function deviceOfCertificate(organizationId: string, der: Buffer, source: string): Promise<WindowsDeviceRecord> {
    const thumbprint = thumbprintOf(der);
    const issued = await ca.findIssuedCertificate(organizationId, { thumbprint });
    if (!issued || issued.platform !== 'windows' || !Buffer.from(issued.certificateDer).equals(der)) {
      throw new SoapFault('InvalidSecurity', 'The client certificate was not issued by this server for this organization.');
    }
    const device = await devices.device(organizationId, issued.deviceId);
    if (!device || device.deviceIdentifier !== source) throw notThisDevice();
    const now = clock.now();
    if (issued.revokedAt !== null || device.certificateThumbprint !== thumbprint) {
      // Retired or unenrolled: the device is told so. A certificate replaced by a retried
      // enrollment of a device still enrolled is simply not its certificate any more.
      throw isEnrolled(device) ? notThisDevice() : noLongerManaged();
    }
    if (issued.notAfter <= now || issued.notBefore > now) throw new SoapFault('InvalidSecurity', 'The client certificate is outside its validity.');
    return device;
  }

  async function sessionDevice(organizationId: string, presented: PresentedCertificate, source: string): Promise<SessionDevice> {
    if (presented === 'unreadable') throw new SoapFault('InvalidSecurity', 'The client certificate cannot be read.');
    if (presented !== 'none') return { device: await deviceOfCertificate(organizationId, presented.der, source), verified: true };
    if (!deps.allowUnverified) throw new SoapFault('InvalidSecurity', 'The session carries no client certificate.');
    const device = await devices.enrolledByIdentifier(organizationId, source);
    if (!device) throw notEnrolledHere();
    return { device, verified: false };
  }

  return {
    async session(organizationId: string, body: string, presented: PresentedCertificate): Promise<string> {
      const message = parseSyncml(body);
      if (!isId(organizationId)) throw notEnrolledHere();
      const orgId = organizationId.toLowerCase();
      const { device, verified } = await sessionDevice(orgId, presented, message.source);
      if (!isEnrolled(device)) throw noLongerManaged();

      const now = clock.now();
      // Stored values of nodes no longer kept (an older version kept any) are dropped here too.
      const devInfo = keptDevInfo({ ...device.devInfo, ...devInfoOf(message) });
      // Only the device's own certificate may unenroll it: a DeviceID alone is not enough.
      if (verified && isUnenrollment(message)) {
        // The lifecycle clears the device's queue in the same transaction.
        await devices.unenroll(orgId, device.id, devInfo, now);
        return syncmlResponse(message, urls.management(orgId));
      }
      await devices.recordSession(orgId, device.id, devInfo, now);
      // A new SessionID ends the old session (its unanswered commands go out again), this
      // message's Statuses complete what they name, and the answer carries the next queued
      // commands; with none left it is Statuses and Final, which ends the session.
      const { commands } = deps;
      await commands.requeueUnanswered(orgId, device.id, message.sessionId);
      await commands.reportWindows(orgId, device.id, message.sessionId, message.statuses);
      const sentUnder = { sessionId: message.sessionId, msgId: message.msgId, firstCmdId: firstCommandId(message.commands.length) };
      // The answer stays within the device's MaxMsgSize: the commands that do not fit wait for
      // the next message of the session (each answer is measured as the bytes it will be).
      const empty = Buffer.byteLength(syncmlResponse(message, urls.management(orgId)));
      const budget = { bytes: (message.maxMsgSize ?? DEFAULT_MAX_MSG_SIZE) - empty, sizeOf: (c: DeviceCommandRecord) => Buffer.byteLength(encodeCommand({ ...c, cmdId: String(sentUnder.firstCmdId + WINDOWS_COMMANDS_PER_MESSAGE) })) };
      const next = await commands.next(orgId, device.id, { limit: WINDOWS_COMMANDS_PER_MESSAGE, sentUnder, budget });
      return syncmlResponse(message, urls.management(orgId), encodeCommands(next));
    },
  };
}

export type WindowsManagementService = ReturnType<typeof createWindowsManagementService>;
