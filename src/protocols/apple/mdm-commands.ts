import type { AppleCommandPayload, DeviceCommandRecord, JsonValue } from '../../devices/commands/device-command.ts';
import { buildPlist, isDict, PlistError, type PlistDict, type PlistValue } from '../../lib/plist.ts';

/**
 * The command queue at ServerURL (Apple Device Management, "Commands and Queries"): a queued
 * command encoded as the plist the device runs, and ErrorChain read back as JSON. Pure functions.
 */

/** `{"$data": "<base64>"}` in a stored payload is a plist data value (JSON has none). */
function toPlist(value: JsonValue): PlistValue {
  if (Array.isArray(value)) return value.map(toPlist);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$data' && typeof value.$data === 'string') return Buffer.from(value.$data, 'base64');
    return Object.fromEntries(keys.map((k) => [k, toPlist(value[k]!)]));
  }
  // plist has no null: a stored null is an empty string, which devices read as absent.
  return value ?? '';
}

/**
 * `{CommandUUID, Command: {RequestType, ...}}`: the command's id is its CommandUUID. An
 * InstallProfile is queued with the profile's text (`mobileconfig`) and goes out with `Payload`,
 * the profile as data signed by the organization (`signedProfile`, made by the caller).
 */
export function encodeCommand(command: DeviceCommandRecord, signedProfile?: Buffer): string {
  const { mobileconfig: _text, ...payload } = command.payload as AppleCommandPayload;
  const fields = toPlist(payload) as PlistDict;
  return buildPlist({ CommandUUID: command.id, Command: { ...fields, ...(signedProfile ? { Payload: signedProfile } : {}), RequestType: command.type } });
}

/** The text of the profile an InstallProfile installs, to be signed for its Payload; null for any other command. */
export function profileToSign(command: DeviceCommandRecord): string | null {
  const text = (command.payload as AppleCommandPayload).mobileconfig;
  return command.type === 'InstallProfile' && typeof text === 'string' ? text : null;
}

/**
 * A DeviceInformation report's answers to the queries Openroll asks (QueryResponses: DeviceName,
 * Model, OSVersion, SerialNumber), each null when absent or not a string; null with no QueryResponses.
 */
export function deviceInformationAnswers(message: PlistDict): { deviceName: string | null; model: string | null; osVersion: string | null; serialNumber: string | null } | null {
  const responses = message.QueryResponses;
  if (responses === undefined) return null;
  if (!isDict(responses)) throw new PlistError('QueryResponses must be a dictionary', 'QueryResponses');
  const text = (key: string, maxLength: number) => {
    const value = responses[key];
    return typeof value === 'string' && value !== '' && !value.includes('\u0000') ? value.slice(0, maxLength) : null;
  };
  return { deviceName: text('DeviceName', 256), model: text('Model', 128), osVersion: text('OSVersion', 64), serialNumber: text('SerialNumber', 64) };
}

/** A plist value as JSON: data as base64, dates as ISO text. */
function toJson(value: PlistValue): JsonValue {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (isDict(value)) return Object.fromEntries(Object.keys(value).map((k) => [k, toJson(value[k]!)]));
  return value as JsonValue;
}

/** A report's ErrorChain (an array of dictionaries: ErrorCode, ErrorDomain, LocalizedDescription, ...), at most 16 kept. */
export function errorChainOf(message: PlistDict): JsonValue[] | null {
  const chain = message.ErrorChain;
  if (chain === undefined) return null;
  if (!Array.isArray(chain) || !chain.every((e) => isDict(e))) throw new PlistError('ErrorChain must be an array of dictionaries', 'ErrorChain');
  return chain.slice(0, 16).map(toJson);
}
