import type { Database } from '../../db/client.ts';
import { AppError, validationError } from '../../errors.ts';
import { createAppleDevicesRepo, type AppleDeviceRecord } from '../../devices/apple-devices.repo.ts';
import type { MessageSigner } from './message-signature.ts';
import { parsePlistDict, PlistError, type PlistDict } from './plist.ts';

/** What check-in and the MDM channel share: reading a signed message and finding its device. */

function bodyError(error: PlistError): AppError {
  return validationError([{ path: error.field ? `body.${error.field}` : 'body', message: error.message }]);
}

/** Parses a signed message's body; a bad plist or field is 400 naming it. */
export function readMessage(body: Buffer): PlistDict {
  try {
    return parsePlistDict(body);
  } catch (error) {
    if (error instanceof PlistError) throw bodyError(error);
    throw error;
  }
}

export function field<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof PlistError) throw bodyError(error);
    throw error;
  }
}

export function unknownDevice(message: string): AppError {
  return new AppError('NOT_FOUND', { data: { errors: [{ path: 'body.UDID', message }] } });
}

/**
 * The device of a signed message: the one the signing identity was issued to, which must have
 * authenticated with this UDID and not checked out. Shared by check-in and the MDM channel.
 */
export async function deviceOf(database: Database, signer: MessageSigner, udid: string, accept: AppleDeviceRecord['state'][]): Promise<AppleDeviceRecord> {
  const device = await createAppleDevicesRepo(database.db).get(signer.organizationId, signer.deviceId);
  if (!device || device.udid !== udid) throw unknownDevice('no device has authenticated with this UDID and identity; send Authenticate first');
  if (!accept.includes(device.state as AppleDeviceRecord['state'])) throw unknownDevice(`the device is ${device.state.toLowerCase()}`);
  return device;
}
