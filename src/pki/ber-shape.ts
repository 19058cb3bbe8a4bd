/**
 * A linear walk over BER/DER bytes before asn1js decodes them. asn1js's cost grows faster than
 * the number of values (a SEQUENCE of 12,000 NULLs, 24 KB, took 0.6 s), and the bytes come from
 * devices before anything authenticates them: an `Mdm-Signature` header, a SCEP pkiMessage and
 * its envelope. A real one holds a few hundred values in a dozen levels; these bounds are far
 * above that and keep asn1js's work small.
 */
export interface BerShapeLimits {
  maxValues: number;
  maxDepth: number;
}

export const DEVICE_BER_LIMITS: BerShapeLimits = { maxValues: 2048, maxDepth: 48 };

/** Where the open constructed values end; -1 for an indefinite length (ends at end-of-contents). */
type OpenEnds = number[];

/**
 * Returns why `bytes` is not one BER value within the limits, or null when asn1js may decode
 * it. Each byte is read once; nothing recurses.
 */
export function berShapeProblem(bytes: Uint8Array, limits: BerShapeLimits = DEVICE_BER_LIMITS): string | null {
  const open: OpenEnds = [];
  let values = 0;
  let at = 0;
  const length = bytes.length;
  for (;;) {
    while (open.length > 0 && open[open.length - 1] === at) open.pop();
    const end = open.length > 0 ? open[open.length - 1]! : length;
    if (open.length === 0 && values > 0) return at === length ? null : 'trailing bytes after the value';
    if (at >= (end === -1 ? length : end)) return 'a value is truncated';
    if (end === -1 && bytes[at] === 0 && bytes[at + 1] === 0) {
      // End-of-contents of the innermost indefinite-length value.
      open.pop();
      at += 2;
      continue;
    }
    const identifier = bytes[at++]!;
    if ((identifier & 0x1f) === 0x1f) {
      let tagBytes = 0;
      while (at < length && bytes[at]! & 0x80) {
        at++;
        if (++tagBytes > 4) return 'a tag number is too large';
      }
      at++;
    }
    if (at >= length) return 'a value is truncated';
    let contentLength = bytes[at++]!;
    let indefinite = false;
    if (contentLength === 0x80) {
      indefinite = true;
    } else if (contentLength > 0x80) {
      const octets = contentLength & 0x7f;
      if (octets > 4 || at + octets > length) return 'a length is out of range';
      contentLength = 0;
      for (let i = 0; i < octets; i++) contentLength = contentLength * 256 + bytes[at++]!;
    }
    if (++values > limits.maxValues) return `more than ${limits.maxValues} values`;
    const constructed = (identifier & 0x20) !== 0;
    if (indefinite && !constructed) return 'a primitive value has an indefinite length';
    if (constructed) {
      const valueEnd = indefinite ? -1 : at + contentLength;
      const outer = open.length > 0 ? open[open.length - 1]! : length;
      if (valueEnd !== -1 && valueEnd > (outer === -1 ? length : outer)) return 'a value is truncated';
      if (valueEnd !== at) {
        open.push(valueEnd);
        if (open.length > limits.maxDepth) return `values nested more than ${limits.maxDepth} deep`;
      } else if (open.length === 0) {
        return at === length ? null : 'trailing bytes after the value';
      }
    } else {
      at += contentLength;
      if (at > (end === -1 ? length : end)) return 'a value is truncated';
    }
  }
}
