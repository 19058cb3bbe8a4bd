/**
 * A minimal DER reader that keeps every value's exact bytes. Signatures are checked over the
 * bytes the signer sent; a library that decodes and re-encodes (and refuses what it cannot
 * re-encode, like a PrintableString holding a NUL) is the wrong tool for that. One pass, no
 * recursion beyond what the caller asks for: linear in the input.
 */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export interface DerValue {
  /** The identifier octet (tags above 30 are refused: nothing read here uses them). */
  tag: number;
  constructed: boolean;
  /** The whole TLV, as received. */
  bytes: Buffer;
  /** The contents octets. */
  contents: Buffer;
}

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  bmpString: 0x1e,
  universalString: 0x1c,
} as const;

/** The value starting at `offset`; definite lengths only, in their shortest form, within `input`. */
export function readDer(input: Buffer, offset = 0): DerValue {
  if (offset + 2 > input.length) throw new DerError('truncated value');
  const tag = input[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let length = input[offset + 1]!;
  let header = 2;
  if (length === 0x80) throw new DerError('indefinite lengths are not DER');
  if (length > 0x80) {
    const octets = length & 0x7f;
    if (octets > 4 || offset + 2 + octets > input.length) throw new DerError('length out of range');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + input[offset + 2 + i]!;
    if (length < 0x80 || input[offset + 2] === 0) throw new DerError('length not in its shortest form');
    header += octets;
  }
  const end = offset + header + length;
  if (end > input.length) throw new DerError('truncated value');
  return { tag, constructed: (tag & 0x20) !== 0, bytes: input.subarray(offset, end), contents: input.subarray(offset + header, end) };
}

/** Exactly one value filling `input`. */
export function readOnly(input: Buffer, what: string): DerValue {
  const value = readDer(input);
  if (value.bytes.length !== input.length) throw new DerError(`${what} has trailing bytes`);
  return value;
}

/** The elements of a constructed value (SEQUENCE, SET, context tags). */
export function elements(value: DerValue): DerValue[] {
  if (!value.constructed) throw new DerError('not a constructed value');
  const out: DerValue[] = [];
  for (let offset = 0; offset < value.contents.length; ) {
    const element = readDer(value.contents, offset);
    out.push(element);
    offset += element.bytes.length;
  }
  return out;
}

export function expectTag(value: DerValue | undefined, tag: number, what: string): DerValue {
  if (!value || value.tag !== tag) throw new DerError(`${what} is missing or of the wrong type`);
  return value;
}

/** Dotted-decimal text of an OBJECT IDENTIFIER's contents. */
export function oidText(value: DerValue): string {
  const bytes = expectTag(value, TAG.oid, 'object identifier').contents;
  if (bytes.length === 0 || bytes.length > 64 || bytes[bytes.length - 1]! & 0x80) throw new DerError('malformed object identifier');
  const arcs: number[] = [];
  let arc = 0;
  for (const byte of bytes) {
    if (arc === 0 && byte === 0x80) throw new DerError('malformed object identifier');
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER / 128) throw new DerError('object identifier arc too large');
    if ((byte & 0x80) === 0) {
      arcs.push(arc);
      arc = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

/** The text of a directory string as received: UTF-8 for UTF8String, one byte a character for the ASCII-range types. */
export function stringText(value: DerValue): string | null {
  switch (value.tag) {
    case TAG.utf8String:
      return value.contents.toString('utf8');
    case TAG.printableString:
    case TAG.ia5String:
    case TAG.t61String:
      return value.contents.toString('latin1');
    case TAG.bmpString: {
      if (value.contents.length % 2 !== 0) return null;
      const swapped = Buffer.from(value.contents);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default:
      return null;
  }
}
