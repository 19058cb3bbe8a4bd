import { validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AppleLifecycle } from '../../devices/apple-lifecycle.service.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { answering, field, readMessage } from './device-message.ts';
import { authenticateMessage } from './message-signature.ts';
import { optionalStringField, stringField } from './plist.ts';

/** The statuses a device reports at ServerURL (Apple Device Management, "Commands and Queries"). */
const STATUSES = ['Idle', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow'];

/**
 * The MDM channel at ServerURL. There is no command queue yet, so every report is answered
 * 200 with an empty body: the device goes back to sleep until a push wakes it.
 */
export function createMdmChannelService(deps: { devices: AppleLifecycle; clock: Clock; ca: CertificateAuthority }) {
  return {
    async report(organizationId: string, signature: string | string[] | undefined, body: Buffer): Promise<void> {
      const signer = await authenticateMessage(deps, organizationId, signature, body);
      const message = readMessage(body);
      const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
      const status = field(() => stringField(message, 'Status', { maxLength: 64 }));
      if (!STATUSES.includes(status)) throw validationError([{ path: 'body.Status', message: `must be one of ${STATUSES.join(', ')}` }]);
      field(() => optionalStringField(message, 'CommandUUID', { maxLength: 128 }));
      await answering(deps.devices.report(signer, udid, deps.clock.now()));
    },
  };
}

export type MdmChannelService = ReturnType<typeof createMdmChannelService>;
