import type { Database } from '../../db/client.ts';
import { validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { createAppleDevicesRepo } from '../../modules/apple-devices/apple-devices.repo.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { deviceOf, field, readMessage } from './device-message.ts';
import { authenticateMessage } from './message-signature.ts';
import { optionalStringField, stringField } from './plist.ts';
import type { AppleReport, DeviceCommandsService } from '../../devices/commands/device-commands.service.ts';
import { encodeCommand, errorChainOf } from './mdm-commands.ts';

/** The statuses a device reports at ServerURL (Apple Device Management, "Commands and Queries"). */
const STATUSES = ['Idle', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow'];

/**
 * The MDM channel at ServerURL. A report completes the command it names, then is answered with
 * the device's next queued command (a plist), or an empty body when none is left: the device
 * goes back to sleep until a push wakes it.
 */
export function createMdmChannelService(deps: { database: Database; clock: Clock; ca: CertificateAuthority; commands: DeviceCommandsService }) {
  return {
    /** The plist of the next command, or null for an empty 200. */
    async report(organizationId: string, signature: string | string[] | undefined, body: Buffer): Promise<string | null> {
      const signer = await authenticateMessage(deps, organizationId, signature, body);
      const message = readMessage(body);
      const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
      const status = field(() => stringField(message, 'Status', { maxLength: 64 }));
      if (!STATUSES.includes(status)) throw validationError([{ path: 'body.Status', message: `must be one of ${STATUSES.join(', ')}` }]);
      const commandUuid = field(() => optionalStringField(message, 'CommandUUID', { maxLength: 128 }));
      // Command queue (issue 23): the report completes its command (a CommandUUID not of this
      // device: 404, nothing changed), then the next queued command is the answer.
      const errorChain = field(() => errorChainOf(message));
      const device = await deviceOf(deps.database, signer, udid, ['ENROLLED']);
      const report = { status: status as AppleReport['status'], commandUuid, errorChain };
      await deps.commands.reportApple(signer.organizationId, device.id, report);
      const now = deps.clock.now();
      await createAppleDevicesRepo(deps.database.db).update(signer.organizationId, device.id, { lastSeenAt: now });
      const [next] = await deps.commands.next(signer.organizationId, device.id, { limit: 1, skipNotNow: status === 'NotNow' });
      return next ? encodeCommand(next) : null;
    },
  };
}

export type MdmChannelService = ReturnType<typeof createMdmChannelService>;
