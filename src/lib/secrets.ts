import { createHash, randomFillSync, timingSafeEqual } from 'node:crypto';

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time equality of two digests. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Random bytes are drawn from the CSPRNG a pool at a time and each byte is handed out once:
 * a call per secret costs about 7 µs, which a bulk of 10,000 tokens spent holding the event
 * loop (node's own randomUUID pools the same way).
 */
const POOL_SIZE = 8_192;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** The next `bytes` unused bytes of the pool, read by `use`, then wiped. */
function fromPool<T>(bytes: number, use: (pool: Buffer, start: number, end: number) => T): T {
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  const value = use(pool, start, poolOffset);
  // Used bytes are overwritten so no later reader of the pool could see a secret handed out.
  pool.fill(0, start, poolOffset);
  return value;
}

/** URL-safe random text carrying `bytes * 8` bits of entropy. */
export function randomToken(bytes: number): string {
  if (bytes > POOL_SIZE) return randomFillSync(Buffer.alloc(bytes)).toString('base64url');
  return fromPool(bytes, (buf, start, end) => buf.toString('base64url', start, end));
}

/** Upper-case letters and digits without the look-alikes 0/O, 1/I/L, 5/S, 2/Z, 8/B. */
export const CODE_ALPHABET = 'ACDEFGHJKMNPQRTUVWXY34679';
/** Bytes at or past this are drawn again, so every letter is equally likely (250 = 10 × 25). */
const CODE_BYTE_LIMIT = 256 - (256 % CODE_ALPHABET.length);

/** A code for typing by hand: `length` characters of CODE_ALPHABET, uniformly drawn. */
export function randomCode(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = fromPool(1, (buf, start) => buf[start]!);
    if (byte < CODE_BYTE_LIMIT) out += CODE_ALPHABET[byte % CODE_ALPHABET.length];
  }
  return out;
}
