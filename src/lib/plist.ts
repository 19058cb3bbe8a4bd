import { DOMParser } from '@xmldom/xmldom';
import { build, parse, type PlistValue } from 'plist';

/**
 * XML property lists, the format of Apple's check-in and MDM messages and of configuration
 * profiles, through the `plist` library. Devices are untrusted: what the library would accept
 * beyond a plain XML plist (binary and OpenStep plists, DTD internal subsets with entities,
 * `__proto__` keys that swap an object's prototype) is refused before or after it parses.
 */
export type { PlistValue };
export type PlistDict = { [key: string]: PlistValue };

export class PlistError extends Error {
  /** The top-level key at fault, when one is. */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'PlistError';
    this.field = field;
  }
}

/** Deeper than any message Apple sends; bounds the recursion of the checks below. */
const MAX_DEPTH = 32;

/** Parses an XML plist whose top level is a dictionary; throws PlistError naming the problem. */
export function parsePlistDict(body: Buffer | string): PlistDict {
  const text = typeof body === 'string' ? body : decodeUtf8(body);
  const start = text.trimStart();
  if (!start.startsWith('<?xml') && !start.startsWith('<!DOCTYPE') && !start.startsWith('<plist')) {
    throw new PlistError('is not an XML property list');
  }
  // Apple's DOCTYPE has no internal subset; one would only be there to declare entities.
  if (/<!ENTITY/i.test(text) || /<!DOCTYPE[^>]*\[/i.test(text)) throw new PlistError('declares a DTD internal subset, which is not accepted');
  let xmlProblem: string | undefined;
  try {
    // plist's own parse lets xmldom print malformed input to the console; this pass refuses
    // it first, quietly, so device bytes never reach the logs.
    new DOMParser({
      onError: (level, message) => {
        if (level === 'warning') return;
        xmlProblem ??= message.split('\n')[0];
        throw new PlistError(message);
      },
    }).parseFromString(text, 'text/xml');
  } catch {
    throw new PlistError(`is not well-formed XML (${xmlProblem ?? 'parse error'})`);
  }
  let value: PlistValue;
  try {
    value = parse(text);
  } catch (error) {
    throw new PlistError(`is not a valid property list (${error instanceof Error ? error.message.split('\n')[0] : 'parse error'})`);
  }
  checkShape(value, 0);
  if (!isDict(value)) throw new PlistError('must be a dictionary at the top level');
  return value;
}

export function isDict(value: PlistValue | undefined): value is PlistDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

function checkShape(value: PlistValue, depth: number): void {
  if (depth > MAX_DEPTH) throw new PlistError('is nested too deeply');
  if (Array.isArray(value)) {
    for (const item of value) checkShape(item, depth + 1);
    return;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new PlistError('holds a number that is not finite');
  if (value instanceof Date && Number.isNaN(value.getTime())) throw new PlistError('holds a date that is not valid');
  if (isDict(value)) {
    // `new_obj['__proto__'] = x` in the parser replaces the object's prototype instead of adding a key.
    if (Object.getPrototypeOf(value) !== Object.prototype) throw new PlistError('uses the reserved key __proto__');
    for (const key of Object.keys(value)) checkShape(value[key]!, depth + 1);
  }
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new PlistError('is not UTF-8 text');
  }
}

/** A required string field of a message, trimmed of nothing: what the device sent. */
export function stringField(dict: PlistDict, key: string, options: { maxLength?: number } = {}): string {
  const value = dict[key];
  if (typeof value !== 'string' || value === '') throw new PlistError(`${key} is required and must be a string`, key);
  if (value.length > (options.maxLength ?? 256)) throw new PlistError(`${key} is too long`, key);
  if (value.includes('\u0000')) throw new PlistError(`${key} must not contain NUL`, key);
  return value;
}

/** Devices send keys they have no value for as empty (`<string></string>`): the same as absent. */
export function optionalStringField(dict: PlistDict, key: string, options: { maxLength?: number } = {}): string | null {
  if (dict[key] === undefined || dict[key] === '') return null;
  return stringField(dict, key, options);
}

export function dataField(dict: PlistDict, key: string, options: { required: boolean; maxBytes?: number }): Buffer | null {
  const value = dict[key];
  // A Mac sends `<key>UnlockToken</key><data></data>` when it has none (micromdm's captures).
  if (!options.required && (value === undefined || (value instanceof Uint8Array && value.length === 0))) return null;
  if (!(value instanceof Uint8Array) || value.length === 0) throw new PlistError(`${key} is required and must be data`, key);
  if (value.length > (options.maxBytes ?? 8192)) throw new PlistError(`${key} is too large`, key);
  return Buffer.from(value);
}

/** Serializes a value as an XML plist (UTF-8, Apple's DOCTYPE). */
export function buildPlist(value: PlistValue): string {
  return build(value);
}
