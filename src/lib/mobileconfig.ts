import { validationError, type FieldError } from '../errors.ts';
import { isDict, parsePlistDict, PlistError } from './plist.ts';

/**
 * Configuration profiles (Apple's "Configuration Profile Reference", top-level keys) as admins
 * hand them to policies and tokens: the XML text of a plist dictionary with PayloadType
 * `Configuration`, PayloadIdentifier, PayloadUUID, PayloadVersion and a PayloadContent array,
 * at most 512 KB (CONTRACT.md section 6, "Apple profiles").
 */
export const MOBILECONFIG_MAX_BYTES = 512 * 1024;

export interface Mobileconfig {
  /** What the device replaces an installed profile by, and what RemoveProfile names. */
  payloadIdentifier: string;
}

/** Reads a profile's text; a PlistError says what is wrong with it. */
export function readMobileconfig(text: string): Mobileconfig {
  if (Buffer.byteLength(text, 'utf8') > MOBILECONFIG_MAX_BYTES) throw new PlistError(`must be at most ${MOBILECONFIG_MAX_BYTES} bytes`);
  const profile = parsePlistDict(text);
  if (profile.PayloadType !== 'Configuration') throw new PlistError('PayloadType must be Configuration');
  for (const key of ['PayloadIdentifier', 'PayloadUUID'] as const) {
    const value = profile[key];
    if (typeof value !== 'string' || value.trim() === '') throw new PlistError(`${key} must be a non-empty string`);
  }
  if (typeof profile.PayloadVersion !== 'number' || !Number.isInteger(profile.PayloadVersion)) throw new PlistError('PayloadVersion must be an integer');
  const content = profile.PayloadContent;
  if (!Array.isArray(content) || !content.every((payload) => isDict(payload))) throw new PlistError('PayloadContent must be an array of dictionaries');
  return { payloadIdentifier: profile.PayloadIdentifier as string };
}

/**
 * The `mobileconfig` of each profile item that carries one, checked; every failure named by
 * its place in the body (`body.profiles.1.mobileconfig`). Items without one are kept as given.
 */
export function mobileconfigErrors(items: readonly Record<string, unknown>[] | undefined, path: string): FieldError[] {
  const errors: FieldError[] = [];
  (items ?? []).forEach((item, i) => {
    if (!('mobileconfig' in item)) return;
    const at = `${path}.${i}.mobileconfig`;
    const text = item.mobileconfig;
    if (typeof text !== 'string') {
      errors.push({ path: at, message: 'must be the XML text of a configuration profile' });
      return;
    }
    try {
      readMobileconfig(text);
    } catch (error) {
      if (!(error instanceof PlistError)) throw error;
      errors.push({ path: at, message: error.message });
    }
  });
  return errors;
}

/** Throws the 400 3000 of mobileconfigErrors, if any. */
export function checkMobileconfigs(items: readonly Record<string, unknown>[] | undefined, path: string): void {
  const errors = mobileconfigErrors(items, path);
  if (errors.length > 0) throw validationError(errors);
}
