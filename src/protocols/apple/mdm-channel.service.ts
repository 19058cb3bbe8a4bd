import { validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AppleLifecycle } from '../../devices/apple-lifecycle.service.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { answering, field, readMessage } from './device-message.ts';
import { authenticateMessage } from './message-signature.ts';
import { optionalStringField, stringField } from '../../lib/plist.ts';
import type { AppleReport, DeviceCommandsService } from '../../devices/commands/device-commands.service.ts';
import { caSignerFor } from '../../pki/ca-signer.ts';
import { signAttached } from '../../pki/cms.ts';
import { deviceInformationAnswers, encodeCommand, errorChainOf, profileToSign } from './mdm-commands.ts';

/** The statuses a device reports at ServerURL (Apple Device Management, "Commands and Queries"). */
const STATUSES = ['Idle', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow'];

/**
 * The MDM channel at ServerURL. A report completes the command it names, then is answered with
 * the device's next queued command (a plist), or an empty body when none is left: the device
 * goes back to sleep until a push wakes it.
 */
export function createMdmChannelService(deps: { devices: AppleLifecycle; clock: Clock; ca: CertificateAuthority; commands: DeviceCommandsService }) {
  return {
    /** The plist of the next command, or null for an empty 200. */
    async report(organizationId: string, signature: string | string[] | undefined, body: Buffer): Promise<string | null> {
      const signer = await authenticateMessage(deps, organizationId, signature, body);
      const message = readMessage(body);
      const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
      const status = field(() => stringField(message, 'Status', { maxLength: 64 }));
      if (!STATUSES.includes(status)) throw validationError([{ path: 'body.Status', message: `must be one of ${STATUSES.join(', ')}` }]);
      const commandUuid = field(() => optionalStringField(message, 'CommandUUID', { maxLength: 128 }));
      const errorChain = field(() => errorChainOf(message));
      const answers = field(() => deviceInformationAnswers(message));
      const report = { status: status as AppleReport['status'], commandUuid, errorChain };
      // The report completes its command (a CommandUUID not of this device: 404, nothing
      // changed, not even lastSeenAt), then the next queued command is the answer.
      const next = await answering(deps.devices.report(signer, udid, deps.clock.now(), report, answers));
      if (!next) return null;
      const profile = profileToSign(next);
      // The organization's CA signs the profile (as it signs the enrollment profile): the device shows it as verified.
      const signed = profile === null ? undefined : await signAttached(Buffer.from(profile, 'utf8'), await caSignerFor(deps.ca, signer.organizationId));
      return encodeCommand(next, signed);
    },
  };
}

export type MdmChannelService = ReturnType<typeof createMdmChannelService>;
