import { DeviceRefused } from '../../devices/device-refused.ts';
import { AppError, validationError } from '../../errors.ts';
import { parsePlistDict, PlistError, type PlistDict } from '../../lib/plist.ts';

/** What check-in and the MDM channel share: reading a signed message, and answering a refusal of the devices face. */

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
 * A refusal of the devices face as this protocol answers it: Apple devices read the HTTP status
 * (the body is the API's envelope, which tests and operators read: 404 3001, 409 5001, 400 5146).
 */
export function refusal(error: unknown): unknown {
  if (!(error instanceof DeviceRefused)) return error;
  switch (error.reason) {
    case 'identifier-held':
      return new AppError('CONFLICT', { data: { errors: [{ path: 'body.UDID', message: error.detail }] } });
    case 'token-closed':
    case 'token-used':
      return new AppError('TOKEN_NOT_PENDING', { data: { errors: [{ path: 'token', message: error.detail }] } });
    default:
      return unknownDevice(error.detail);
  }
}

/** Runs a call of the devices face, its refusals answered as this protocol does. */
export async function answering<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw refusal(error);
  }
}
